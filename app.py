"""SwipeSavvy Campaign Insights: navigation, sign-in gate and the shared sidebar."""
from pathlib import Path

import streamlit as st

from ui.session import account_box, identity_provider_configured, sign_in_gate
from ui.widgets import sidebar_filters

st.set_page_config(page_title="SwipeSavvy Campaign Insights", page_icon=":material/insights:", layout="wide")

user = sign_in_gate()

# Screens in menu order; a screen appears once its file exists. A screen with tabs is a package
# whose page file is named like the package: the file name gives the URL (/ab_tests), as before.
SCREENS = [
    ("screens/overview.py", "Overview", ":material/dashboard:"),
    ("screens/campaigns/campaigns.py", "Campaign analytics", ":material/campaign:"),
    ("screens/ab_tests/ab_tests.py", "A/B tests", ":material/science:"),
    ("screens/optimization/optimization.py", "Recommendations", ":material/auto_graph:"),
    ("screens/live.py", "Real-time", ":material/bolt:"),
    ("screens/system.py", "System", ":material/monitor_heart:"),
]
# Executives land on the overview; everyone else on campaign analytics, where their work is.
LANDING = {"exec": "screens/overview.py"}
HERE = Path(__file__).parent
# The root URL is the landing page, which differs by role; campaign analytics writes view=campaigns
# into its URL, so a link to it opens it for every reader (an executive too), in their own role.
CAMPAIGNS_VIEW = "campaigns"
landing = ("screens/campaigns/campaigns.py" if st.query_params.get("view") == CAMPAIGNS_VIEW
           else LANDING.get(user.role, "screens/campaigns/campaigns.py"))
navigation = st.navigation([
    st.Page(path, title=title, icon=icon, default=path == landing)
    for path, title, icon in SCREENS if (HERE / path).exists()
])

if not identity_provider_configured():
    st.sidebar.info("**Demo mode** — no identity provider is configured. Pick a role below to "
                    "see the app as that person.", icon=":material/science:")
account_box(user)
sidebar_filters(period=navigation.title != "Overview")  # the Overview chooses its own preset, on the page
navigation.run()
