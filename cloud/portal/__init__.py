"""The web portal: suppliers and customers at work in a browser, served by the API process.

* `accounts`: people (Argon2id passwords, roles and tenants like API keys) and
  their sessions;
* `web`: sessions from cookies, CSRF, forms, language and zone, rendering;
* `pages`: the routes under `/portal` (sign-in, Stock, shelf, Orders desk, live stream);
* `stock`, `chart`: what the pages show, computed (pure);
* `i18n`: English and Simplified Chinese; `ratelimit`: sign-in attempts;
* `templates/`, `static/`: Jinja2 pages, one CSS file, one small script (no build step).

`cloud.portal.install.install_portal(app)` adds it all to the API app.
"""
