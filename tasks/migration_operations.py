"""Schema operations that a live PostgreSQL database takes without long locks,
for migrations that run while the previous version of the app serves.

On PostgreSQL each builds exactly what the plain Django operation builds, by a
path that blocks reads and writes no longer than a catalog update: indexes
CONCURRENTLY, a unique constraint attached to such an index, check constraints
NOT VALID then VALIDATE, NOT NULL proven by a validated check. Every other
database (SQLite, in development) runs the plain operation. The migration
state is always the plain operation's, so `makemigrations` sees the model.

A migration that uses them sets `atomic = False`, so that each statement
commits on its own. Each may run again after an interruption (`migrate` reruns
the whole unapplied migration): what is built is kept, and an index that an
interrupted CONCURRENTLY build left invalid is dropped and built again.
`sqlmigrate` prints the statements of a run from scratch.
"""

from collections.abc import Callable, Sequence
from typing import Any

from django.db import NotSupportedError, transaction
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.backends.ddl_references import Statement
from django.db.migrations import AddConstraint, AddIndex, AlterField, RemoveIndex
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState
from django.db.models import CheckConstraint, Index, Model, UniqueConstraint

# A model class of the historical state, and what fills its NULLs:
# fill(model, database alias), run in its own short transactions.
Fill = Callable[[type[Model], str], object]

CREATE_UNIQUE_INDEX_CONCURRENTLY = (
    "CREATE UNIQUE INDEX CONCURRENTLY %(name)s ON %(table)s%(using)s (%(columns)s)%(include)s%(extra)s%(condition)s"
)


def _on_postgresql(schema_editor: BaseDatabaseSchemaEditor) -> bool:
    return schema_editor.connection.vendor == "postgresql"


def _ensure_not_in_transaction(operation: Operation, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.in_atomic_block:
        raise NotSupportedError(
            f"{type(operation).__name__} cannot run inside a transaction on PostgreSQL "
            "(set atomic = False on the migration)"
        )


def _catalog_value(schema_editor: BaseDatabaseSchemaEditor, sql: str, params: list[Any]) -> Any:
    """The first column of the first row, or None without a row. Always None
    while `sqlmigrate` collects statements: it prints a run from scratch."""
    if schema_editor.collect_sql:
        return None
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else row[0]


def _note(schema_editor: BaseDatabaseSchemaEditor, text: str) -> None:
    """A line among the statements that `sqlmigrate` prints, for what runs
    otherwise than through schema_editor.execute()."""
    if schema_editor.collect_sql:
        schema_editor.collected_sql.append(text)


def _build_index_concurrently(schema_editor: BaseDatabaseSchemaEditor, name: str, create_sql: Statement) -> None:
    valid = _catalog_value(
        schema_editor,
        "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)",
        [schema_editor.quote_name(name)],
    )
    if valid:
        return
    if valid is False:  # left by an interrupted build: unusable, and in the way
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(name)}")
    schema_editor.execute(create_sql)


def _constraint_validated(schema_editor: BaseDatabaseSchemaEditor, table: str, name: str) -> bool | None:
    """True or False: the constraint exists, validated or NOT VALID; None: it does not."""
    validated: bool | None = _catalog_value(
        schema_editor,
        "SELECT convalidated FROM pg_constraint WHERE conrelid = to_regclass(%s) AND conname = %s",
        [schema_editor.quote_name(table), name],
    )
    return validated


class AddIndexConcurrently(AddIndex):
    """AddIndex, built with CREATE INDEX CONCURRENTLY on PostgreSQL: writes go
    on while the index is built."""

    def database_forwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        if not _on_postgresql(schema_editor):
            super().database_forwards(app_label, schema_editor, from_state, to_state)
            return
        _ensure_not_in_transaction(self, schema_editor)
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            create_sql = self.index.create_sql(model, schema_editor, concurrently=True)
            _build_index_concurrently(schema_editor, self.index.name, create_sql)

    def describe(self) -> str:
        return f"{super().describe()} (concurrently on PostgreSQL)"


class RemoveIndexConcurrently(RemoveIndex):
    """RemoveIndex, with DROP INDEX CONCURRENTLY on PostgreSQL."""

    def database_forwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        if not _on_postgresql(schema_editor):
            super().database_forwards(app_label, schema_editor, from_state, to_state)
            return
        _ensure_not_in_transaction(self, schema_editor)
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(self.name)}")

    def describe(self) -> str:
        return f"{super().describe()} (concurrently on PostgreSQL)"


class AddUniqueConstraintConcurrently(AddConstraint):
    """AddConstraint for a UniqueConstraint on plain fields. On PostgreSQL its
    index is built CONCURRENTLY, then becomes the constraint with ADD
    CONSTRAINT ... USING INDEX, a catalog update: the same constraint as a
    plain ADD CONSTRAINT ... UNIQUE, which would block writes while it builds."""

    model_name: str
    constraint: UniqueConstraint

    def __init__(self, model_name: str, constraint: UniqueConstraint) -> None:
        if not constraint.fields or constraint != UniqueConstraint(fields=constraint.fields, name=constraint.name):
            raise ValueError(f"{type(self).__name__} takes a unique constraint on plain fields only")
        super().__init__(model_name, constraint)

    def database_forwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        if not _on_postgresql(schema_editor):
            super().database_forwards(app_label, schema_editor, from_state, to_state)
            return
        _ensure_not_in_transaction(self, schema_editor)
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        table, name = model._meta.db_table, self.constraint.name
        if _constraint_validated(schema_editor, table, name) is not None:
            return
        index = Index(fields=list(self.constraint.fields), name=name)
        create_sql = index.create_sql(model, schema_editor, sql=CREATE_UNIQUE_INDEX_CONCURRENTLY)
        _build_index_concurrently(schema_editor, name, create_sql)
        quote = schema_editor.quote_name
        schema_editor.execute(
            f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} UNIQUE USING INDEX {quote(name)}"
        )

    def describe(self) -> str:
        return f"{super().describe()} (on an index built concurrently on PostgreSQL)"


class AddCheckConstraintNotValid(AddConstraint):
    """AddConstraint for a CheckConstraint. On PostgreSQL it is added NOT VALID
    (new rows are checked from then on) and validated in a second statement,
    whose scan of the table takes a lock that blocks neither reads nor writes."""

    model_name: str
    constraint: CheckConstraint

    def __init__(self, model_name: str, constraint: CheckConstraint) -> None:
        super().__init__(model_name, constraint)

    def database_forwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        if not _on_postgresql(schema_editor):
            super().database_forwards(app_label, schema_editor, from_state, to_state)
            return
        _ensure_not_in_transaction(self, schema_editor)
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        table, name = model._meta.db_table, self.constraint.name
        validated = _constraint_validated(schema_editor, table, name)
        if validated is None:
            schema_editor.execute(f"{self.constraint.create_sql(model, schema_editor)} NOT VALID")
        if not validated:
            schema_editor.execute(
                f"ALTER TABLE {schema_editor.quote_name(table)} VALIDATE CONSTRAINT {schema_editor.quote_name(name)}"
            )

    def describe(self) -> str:
        return f"{super().describe()} (NOT VALID, then validated, on PostgreSQL)"


class OnPostgreSQL(Operation):
    """Raw SQL on PostgreSQL in place of the database changes of `otherwise`,
    which runs on every other database. The migration state is `otherwise`'s
    (unchanged without one). For a step that Django would write with a lock
    held longer than needed, or that only PostgreSQL needs."""

    reversible = True

    def __init__(
        self, sql: list[str], reverse_sql: list[str], otherwise: Operation | None = None, description: str = ""
    ) -> None:
        self.sql = sql
        self.reverse_sql = reverse_sql
        self.otherwise = otherwise
        self.description = description

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        kwargs: dict[str, Any] = {"sql": self.sql, "reverse_sql": self.reverse_sql}
        if self.otherwise is not None:
            kwargs["otherwise"] = self.otherwise
        if self.description:
            kwargs["description"] = self.description
        return type(self).__qualname__, [], kwargs

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        if self.otherwise is not None:
            self.otherwise.state_forwards(app_label, state)

    def database_forwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        if _on_postgresql(schema_editor):
            for statement in self.sql:
                schema_editor.execute(statement)
        elif self.otherwise is not None:
            self.otherwise.database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        if _on_postgresql(schema_editor):
            for statement in self.reverse_sql:
                schema_editor.execute(statement)
        elif self.otherwise is not None:
            self.otherwise.database_backwards(app_label, schema_editor, from_state, to_state)

    def describe(self) -> str:
        if self.description:
            return self.description
        plain = self.otherwise.describe() if self.otherwise is not None else "Nothing"
        return f"{plain} (raw SQL on PostgreSQL)"


class SetNotNullConcurrently(AlterField):
    """AlterField of a nullable column to NOT NULL, while the previous version
    of the app may still insert NULLs into it. `fill(model, alias)` gives the
    NULL rows their values, in short transactions of its own.

    On PostgreSQL the table's ACCESS EXCLUSIVE lock is held only while fill()
    handles the rows inserted since its previous, unlocked pass:
      1. fill(), unlocked;
      2. one transaction: LOCK TABLE ... IN ACCESS EXCLUSIVE MODE, fill()
         again for the stragglers, then ADD CONSTRAINT ... CHECK (column IS
         NOT NULL) NOT VALID; from here on, inserting a NULL fails;
      3. VALIDATE CONSTRAINT, a scan that blocks neither reads nor writes;
      4. SET NOT NULL, without a scan since the valid check proves it, then
         DROP CONSTRAINT.
    fill() must find the NULL rows fast once few are left: give it a partial
    index WHERE column IS NULL (AddIndexConcurrently before this operation,
    RemoveIndexConcurrently after). Elsewhere: fill(), then the plain AlterField.
    """

    def __init__(self, model_name: str, name: str, field: Any, fill: Fill) -> None:
        super().__init__(model_name, name, field)
        self.fill = fill

    def deconstruct(self) -> tuple[str, Sequence[Any], dict[str, Any]]:
        name, args, kwargs = super().deconstruct()
        return name, args, {**kwargs, "fill": self.fill}

    def database_forwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        model = from_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        if not _on_postgresql(schema_editor):
            self._fill(schema_editor, model)
            super().database_forwards(app_label, schema_editor, from_state, to_state)
            return
        _ensure_not_in_transaction(self, schema_editor)
        quote = schema_editor.quote_name
        table = model._meta.db_table
        column = model._meta.get_field(self.name).column
        check = f"{table}_{column}_not_null"
        not_null = _catalog_value(
            schema_editor,
            "SELECT attnotnull FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = %s",
            [quote(table), column],
        )
        if not_null:
            return
        validated = _constraint_validated(schema_editor, table, check)
        if validated is None:
            self._fill(schema_editor, model)
            _note(schema_editor, "BEGIN;")
            with transaction.atomic(using=schema_editor.connection.alias):
                schema_editor.execute(f"LOCK TABLE {quote(table)} IN ACCESS EXCLUSIVE MODE")
                self._fill(schema_editor, model)
                schema_editor.execute(
                    f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(check)} CHECK ({quote(column)} IS NOT NULL) "
                    "NOT VALID"
                )
            _note(schema_editor, "COMMIT;")
        if not validated:
            schema_editor.execute(f"ALTER TABLE {quote(table)} VALIDATE CONSTRAINT {quote(check)}")
        schema_editor.execute(f"ALTER TABLE {quote(table)} ALTER COLUMN {quote(column)} SET NOT NULL")
        schema_editor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT IF EXISTS {quote(check)}")

    def _fill(self, schema_editor: BaseDatabaseSchemaEditor, model: type[Model]) -> None:
        _note(schema_editor, f"-- {self.fill.__name__}() (Python)")
        if not schema_editor.collect_sql:
            self.fill(model, schema_editor.connection.alias)

    def describe(self) -> str:
        return f"{super().describe()}, after filling its NULLs (briefly locked on PostgreSQL)"
