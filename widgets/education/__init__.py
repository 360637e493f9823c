"""Education views: the Learn dock (``learn``), the Glossary dock (``glossary``), glossary
tooltips for metric and indicator names (``tooltips``), the feature-tour overlay (``tour``) and
the admin page (``admin``). Import the submodule you need: the tooltips load at start-up, the
rest on first use."""
