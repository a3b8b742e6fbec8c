"""Optimization (Screen 3): models trained on the events in PostgreSQL, evaluated on held-out
data against a simple baseline, and the recommendations built from them.

Modules (each owns one thing):
- inputs: reading everything a retrain needs from PostgreSQL (one consistent snapshot).
- shrinkage: empirical-Bayes helpers (beta-binomial, Dirichlet smoothing).
- evaluation: held-out metrics — stratified rate ratios, hit rate at k, Qini/AUUC, gains.
- send_time: per-member open probability by member-local hour (latent peak-hour mixture).
- affinity: member–category affinity from time-decayed engagement and conversions.
- offers: conversion probability and expected profit per candidate offer, campaign bootstrap.
- uplift: T- and X-learners and their Qini evaluation (demo experiments, Hillstrom).
- segments: behavioural segments (k-means on RFM + channel and category mix), stable names.
- economics: campaign and segment profit and ROI per week with bootstrap intervals.
- recommendations: turning model outputs into cards (what, why, confidence, ease, impact), with
  cross-fitted selection and Benjamini–Hochberg across every candidate.
- store: writing a run's results and reading the current run for the app.
- training: one retrain, atomic (all results and the pointer flip in one transaction).
- apply: one-click implementation with a random holdout, dismissal, realised impact.
- truth_check: a run's cards against a planted truth passed in (python -m core evaluate).

May import: core.platform, core.access, core.experiments; never core.demo (the planted truth
is for tests to check the models against) and never streamlit.
"""
