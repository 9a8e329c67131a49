"""Entry point of the LDAP source plugin: users from OpenLDAP or Active Directory.

Registered through the ``syncframe`` entry-point group exactly as a third-party
plugin would be::

    [project.entry-points.syncframe]
    ldap = "syncframe_ldap.plugin"

This module imports without python-ldap (an optional install); opening an LDAP
source without it raises a ConfigError naming ``pip install 'syncframe[ldap]'``.
"""

from __future__ import annotations

from typing import Callable

from syncframe import hookimpl

from .schema import LdapSchema
from .source import LdapSource

SOURCE_NAME = "LDAP"
DESCRIPTION = "Users from an LDAP directory (OpenLDAP, Active Directory)"

#: ``syncframe connector template ldap``
TEMPLATE = '''\
# Users from an LDAP directory (OpenLDAP or Active Directory) into pascom.
# Needs python-ldap: pip install 'syncframe[ldap]'. Then:
#   syncframe connector add NAME --profile this-file.toml
#   syncframe check NAME      # bind, base DN, a user, the groups, incremental reads
#   syncframe plan NAME       # what would change; writes nothing
title = "Directory users"
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
type = "LDAP"
url = "ldaps://dc1.example.com"           # ldaps://, or ldap:// with start_tls = true
start_tls = false
# ca_bundle = "/etc/ssl/corp-ca.pem"      # the CA that signed the server's certificate
bind_dn = "cn=syncframe,ou=service,dc=example,dc=com"   # AD: also syncframe@example.com
bind_password_env = "LDAP_BIND_PASSWORD"  # or bind_password_file = "/etc/syncframe/ldap-password" (0600)
base_dn = "ou=people,dc=example,dc=com"
flavour = "openldap"                      # openldap | ad
# filter = "(departmentNumber=Sales)"     # AND-ed with the flavour's user filter
# groups = ["cn=telephony,ou=groups,dc=example,dc=com"]   # only their members (nested groups count)
include_disabled = false                  # disabled / locked accounts are out of scope unless true
page_size = 500

# [source.attributes]                     # override the flavour's attribute for a field
# username = "uid"                        # ad: userPrincipalName (or sAMAccountName)
# email = "mail"

[target]
type = "pascom"
url = "https://pascom.example.com/instance"   # the pascom instance
username = "moby"
password_env = "SYNCFRAME_PASCOM_PASSWORD"   # or password_file = "/etc/syncframe/pascom-password" (0600)
'''


@hookimpl
def syncframe_register_sources(register: Callable[..., None]) -> None:
    register(SOURCE_NAME, LdapSource, LdapSchema, description=DESCRIPTION)


@hookimpl
def syncframe_register_templates(register: Callable[..., None]) -> None:
    register("ldap", TEMPLATE, description="LDAP: OpenLDAP or Active Directory users into pascom")


# ``demo`` and ``sandbox`` start the first source sandbox listed, and entry points load
# alphabetically: tryfirst lists this one after the plugins without it, so the bundled
# demo stays on its simulators and needs no slapd
@hookimpl(tryfirst=True)
def syncframe_register_sandboxes(register: Callable[..., None]) -> None:
    def slapd_sandbox() -> object:
        # imported on demand: only `syncframe sandbox --source LDAP` and tests start slapd
        from .sandbox import SlapdSandbox

        return SlapdSandbox()

    register("source", SOURCE_NAME, slapd_sandbox)
