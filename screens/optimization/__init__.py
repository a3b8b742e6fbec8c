"""Screen 3 — optimization recommendations. optimization.py is the page: the model run's header
and the tabs; one module per tab (cards, offers, send_time, affinity, segments, history) and
model_run.py, what every tab reads about the current model run."""
