"""Entry point of the MSUSER source plugin: users from Microsoft 365 (Entra ID).

Registered through the ``syncframe`` entry-point group exactly as a third-party
plugin would be::

    [project.entry-points.syncframe]
    msuser = "syncframe_msuser.plugin"
"""

from __future__ import annotations

from typing import Any, Callable

from syncframe import hookimpl

from .schema import MsuserSchema
from .source import MsuserSource

SOURCE_NAME = "MSUSER"
DESCRIPTION = "User from Microsoft 365"

#: ``syncframe connector template microsoft365``: the product page's "Microsoft 365 User" template
TEMPLATE = '''\
# Microsoft 365 User: import users from Microsoft 365 / Entra ID into pascom.
# Fill in the [source] and [target] sections, then:
#   syncframe connector add NAME --profile this-file.toml
#   syncframe auth NAME       # sign in and consent (device code for auth = "delegated")
#   syncframe check NAME      # sign-in, permissions, reachability
#   syncframe plan NAME       # what would change; writes nothing
title = "Microsoft 365 users"
# sync:   create and update users; remove missing users from previous imports (default)
# upsert: create and update users; never remove
mode = "sync"
# removal = "disable, delete after 30d"  # leavers: "delete" (default), "disable", or disabled first, deleted after N days
# interval = "1h"             # automation: run at this interval under 'syncframe serve'
# protected_logins = ["admin"]  # never matched or changed

[guard]                       # removals beyond these limits are held, not applied
max_per_run = 100
max_percent = 10
min_allowed = 5

[source]
type = "MSUSER"                             # MSUSER - User from Microsoft 365
tenant = "contoso.onmicrosoft.com"          # tenant id (GUID) or a verified domain
client_id = "00000000-0000-0000-0000-000000000000"  # the app registration's application id
# How to sign in:
#   "delegated":     an administrator signs in once with 'syncframe auth NAME' and consents
#                    (device code; allow public client flows in the app registration)
#   "client_secret": app-only; secret from an environment variable or a 0600 file
#   "certificate":   app-only; a 0600 PEM file holding the private key and the certificate
auth = "delegated"
# client_secret_env = "SYNCFRAME_M365_SECRET"
# client_secret_file = "/etc/syncframe/m365-secret"         # mode 0600
# certificate_file = "/etc/syncframe/m365-app.pem"          # mode 0600
# certificate_thumbprint = "..."                            # computed from the PEM when left out
# Permissions (admin consent): User.Read.All; GroupMember.Read.All when groups are set;
# Presence.Read.All only when presence = true (the user import itself never needs it).
# groups = ["Telephony users"]   # only members (transitive) of these groups (names or object ids)
include_guests = false           # guests (userType Guest / #EXT#) are out of scope unless true
include_disabled = false         # disabled accounts are out of scope unless true
presence = false                 # not needed for the import: true only for a plugin that reads extra["presence"]
cloud = "global"                 # global | usgov | usgov-dod | china

[target]
type = "pascom"
url = "https://pascom.example.com/instance"   # the pascom instance
username = "moby"
password_env = "SYNCFRAME_PASCOM_PASSWORD"   # or password_file = "/etc/syncframe/pascom-password" (0600)
create_softphone = true                      # a softphone per imported user
create_mobile = true                         # a mobile device per imported user
'''


@hookimpl
def syncframe_register_sources(register: Callable[..., None]) -> None:
    register(SOURCE_NAME, MsuserSource, MsuserSchema, description=DESCRIPTION)


@hookimpl
def syncframe_register_templates(register: Callable[..., None]) -> None:
    register("microsoft365", TEMPLATE, description="Microsoft 365 User: Microsoft 365 / Entra ID users into pascom")


@hookimpl
def syncframe_register_sandboxes(register: Callable[..., None]) -> None:
    def graph_sandbox() -> Any:
        # imported on demand: the simulator is only needed by demo, sandbox and tests
        from .sandbox import GraphSandbox

        return GraphSandbox()

    register("source", SOURCE_NAME, graph_sandbox)
