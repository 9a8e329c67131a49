"""Entry point of the GOOGLE source plugin: users from Google Workspace.

Registered through the ``syncframe`` entry-point group exactly as a third-party
plugin would be::

    [project.entry-points.syncframe]
    google = "syncframe_google.plugin"

Nothing heavy is imported here: the source (requests) is imported when sources are
registered, google-auth only when a source is opened, the simulator only when its
sandbox is started.
"""

from __future__ import annotations

from typing import Any, Callable

from syncframe import hookimpl

SOURCE_NAME = "GOOGLE"
DESCRIPTION = "Users from Google Workspace"

#: ``syncframe connector template google-workspace``
TEMPLATE = '''\
# Google Workspace users into pascom, read with the Admin SDK Directory API.
# A service account with domain-wide delegation reads the directory on behalf of an
# administrator (see plugins/google/README.md). Fill in [source] and [target], then:
#   syncframe connector add NAME --profile this-file.toml
#   syncframe check NAME      # key, delegation, reading users and groups
#   syncframe plan NAME       # what would change; writes nothing
title = "Google Workspace users"
# sync:   create and update users; remove missing users from previous imports (default)
# upsert: create and update users; never remove
mode = "sync"
# removal = "disable, delete after 30d"  # leavers: "delete" (default), "disable", or disabled first, deleted after N days
# interval = "1h"             # automation: run at this interval under 'syncframe serve'

[guard]                       # removals beyond these limits are held, not applied
max_per_run = 100
max_percent = 10
min_allowed = 5

[source]
type = "GOOGLE"                              # GOOGLE - Users from Google Workspace
customer = "my_customer"                     # every domain of the account; or: domain = "example.com"
subject = "admin@example.com"                # the administrator the service account acts for
credentials_file = "/etc/syncframe/google-sa.json"   # the service account's JSON key, mode 0600
# credentials_env = "SYNCFRAME_GOOGLE_KEY"   # or the key's JSON in an environment variable
# Domain-wide delegation (Admin console > Security > Access and data control > API controls)
# for the service account's client id, with the scopes:
#   https://www.googleapis.com/auth/admin.directory.user.readonly
#   https://www.googleapis.com/auth/admin.directory.group.member.readonly   (only with groups)
# org_units = ["/Sales", "/Support"]         # only users in these org units (sub-units included)
# groups = ["telephony@example.com"]         # only members of these groups (nested groups included)
include_suspended = false                    # suspended users are out of scope unless true
include_archived = false                     # archived users are out of scope unless true

[target]
type = "pascom"
url = "https://pascom.example.com/instance"  # the pascom instance
username = "moby"
password_env = "SYNCFRAME_PASCOM_PASSWORD"   # or password_file = "/etc/syncframe/pascom-password" (0600)
'''


@hookimpl
def syncframe_register_sources(register: Callable[..., None]) -> None:
    from .schema import GoogleSchema
    from .source import GoogleSource

    register(SOURCE_NAME, GoogleSource, GoogleSchema, description=DESCRIPTION)


@hookimpl
def syncframe_register_templates(register: Callable[..., None]) -> None:
    register("google-workspace", TEMPLATE, description="Google Workspace users into pascom")


# tryfirst sorts this registration after the others pluggy collects (it calls
# tryfirst implementations first, and lists them last): `syncframe demo` and
# `syncframe sandbox` start the first registered source sandbox, and the entry points
# load alphabetically, so without it the bundled demo would switch from Microsoft 365
@hookimpl(tryfirst=True)
def syncframe_register_sandboxes(register: Callable[..., None]) -> None:
    def google_sandbox() -> Any:
        # imported on demand: the simulator is only needed by demo, sandbox and tests
        from .sandbox import GoogleSandbox

        return GoogleSandbox()

    register("source", SOURCE_NAME, google_sandbox)
