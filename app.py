"""SwipeSavvy Campaign Insights: navigation, sign-in gate and the shared sidebar."""
from pathlib import Path

import streamlit as st

from ui.process import freeze_after_first_run
from ui.session import account_box, identity_provider_configured, sign_in_gate
from ui.shared import forget_view_reads
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
# The root URL opens the reader's landing screen, which differs by role. It is a hidden page of
# its own, so every screen keeps its own URL (/campaigns, /overview) for every role: a default
# page is served at the root only, and a link to it from a reader whose default it is not said
# "Page not found". Older links to campaign analytics say so with view=campaigns.
CAMPAIGNS_VIEW = "campaigns"


def open_landing_screen() -> None:
    landing = ("screens/campaigns/campaigns.py" if st.query_params.get("view") == CAMPAIGNS_VIEW
               else LANDING.get(user.role, "screens/campaigns/campaigns.py"))
    # every parameter travels with the switch (this run draws no widget that binds one)
    st.switch_page(landing, query_params={key: st.query_params.get_all(key) for key in st.query_params})


navigation = st.navigation(
    [st.Page(open_landing_screen, title="Home", url_path="home", default=True, visibility="hidden")]
    + [st.Page(path, title=title, icon=icon) for path, title, icon in SCREENS if (HERE / path).exists()])

if navigation.title == "Home":  # straight to the reader's screen, before any widget binds the URL
    navigation.run()

if not identity_provider_configured():
    st.sidebar.info("**Demo mode** — no identity provider is configured. Pick a role below to "
                    "see the app as that person.", icon=":material/science:")
forget_view_reads()  # what this run reads is the view on screen
account_box(user)
sidebar_filters(period=navigation.title != "Overview")  # the Overview chooses its own preset, on the page
navigation.run()
freeze_after_first_run(navigation.title)  # what the screen's first run left alive lives as long as the server
