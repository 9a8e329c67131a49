"""syncframe plugin package ldap: the LDAP source (OpenLDAP, Active Directory)."""
