"""Screen 2 — the A/B test tracker. ab_tests.py is the page: it lays out the alerts and the tabs;
one module per tab (active, history, create, calculator) and detail.py, one test's results and
controls, which the active and history tabs share."""
