"""MediaLink's Slack surface: Bolt listeners, Block Kit rendering and delivery.

The Wix side (``bot.wix``) knows nothing of Slack; this package turns its results
and errors into messages. ``bot.app.build_app`` wires it together.
"""
