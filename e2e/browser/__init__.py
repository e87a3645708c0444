"""Browser fixtures for end-to-end tests: Debian's Chromium driven by Playwright."""
