"""Screen 1 — Campaign analytics. campaigns.py is the page (its file name keeps the URL
/campaigns): the period caption, the campaign picker and the tabs; one module per tab
(portfolio, detail) and over_time.py, the time series with its annotations, which detail uses."""
