"""Who may do what: roles and the checks every action makes (auth), the audit log of every
action a person takes (audit), and masking of personal data for everyone but admins (pii).

May import: core.platform; never streamlit.
"""
