"""Browser tests of the web portal (Debian's Chromium driven by Playwright)."""
