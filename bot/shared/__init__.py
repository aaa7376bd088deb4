"""What several MediaLink replicas share through Redis (``REDIS_URL``): Wix's request
window, the per-member file quotas and the Wix app's OAuth token.

Each piece keeps working when Redis does not answer, with an in-process stand-in and
one ERROR line per outage (``connection.SharedRedis``). Nothing here imports from
``bot.slack``; ``bot/services.py`` wires it into the Wix client and the link service.
"""
