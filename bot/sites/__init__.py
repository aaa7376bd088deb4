"""Connected Wix sites: several sites per workspace, each with its own credentials.

``keys`` encrypts the stored credentials (Fernet, rotatable), ``store`` keeps the sites,
their custom domains and the channels' default sites in the database, ``registry``
serves a request with the right site's link service (built lazily, one per site, so
rate limits, quotas and OAuth tokens are per site) and ``check`` asks Wix whether new
credentials work before they are saved.

Isolation: every row belongs to one tenant (``bot.tenancy.tenant_of``); a tenant sees
only its own sites. The environment's ``WIX_*`` site is every tenant's default site in
single-workspace mode; when MediaLink serves several workspaces (Slack OAuth), only the
tenants named in MEDIALINK_ALLOWED_TEAMS see it.

Kept free of imports: ``bot.config`` imports ``bot.sites.keys``.
"""
