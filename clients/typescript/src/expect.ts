// What the flow checks with: typed response headers, and mismatches that end
// the run with what was expected and what came back.

import { isDeepStrictEqual } from "node:util";

// The headers the schema declares for one status of one operation (without
// the `[name: string]: unknown` that openapi-typescript adds to every one).
export type Responses<Op> = Op extends { responses: infer R } ? R : never;
export type DeclaredHeader<Op, Status extends keyof Responses<Op>> = Responses<Op>[Status] extends { headers: infer H }
  ? keyof { [K in keyof H as string extends K ? never : K]: H[K] } & string
  : never;

/** A response header that the schema declares for `Op` answering `Status`. */
export function header<Op, Status extends keyof Responses<Op>>(
  response: Response,
  name: DeclaredHeader<Op, Status>,
): string | null {
  return response.headers.get(name);
}

export class Mismatch extends Error {}

export function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Mismatch(message);
}

export function show(value: unknown): string {
  return JSON.stringify(value);
}

export function expectEqual<T>(actual: unknown, expected: T, what: string): asserts actual is T {
  check(isDeepStrictEqual(actual, expected), `${what}: expected ${show(expected)}, got ${show(actual)}`);
}

interface Result<D, E> {
  data?: D;
  error?: E;
  response: Response;
}

/** The body of a success answer with this status. */
export function answered<D, E>(result: Result<D, E>, status: number, what: string): D {
  const got = result.response.status;
  check(got === status, `${what}: expected status ${status}, got ${got} ${show(result.error ?? result.data)}`);
  check(result.data !== undefined, `${what}: status ${status} without a body`);
  return result.data;
}

/** The error body of an answer with this status. */
export function refused<D, E>(result: Result<D, E>, status: number, what: string): E {
  const got = result.response.status;
  check(got === status, `${what}: expected status ${status}, got ${got} ${show(result.data ?? result.error)}`);
  return result.error as E;
}
