"""DealScope entry point: the router and the frame (navigation, sidebar filters, language).

Run with `make run` (or `streamlit run app.py`). Pages live in pages/ and are listed in ui/nav.py;
ui/frame.py draws the frame and guards pages against Streamlit's legacy `pages/` shim.
"""

from ui.frame import render_frame

render_frame()
