"""The web pages: server-rendered (Jinja2) in the NHS.UK design system, working without
JavaScript and enhanced where it helps. Every page goes through ``web.pages.access`` (who is
signed in, what they may see) and every form carries its session's CSRF token."""
