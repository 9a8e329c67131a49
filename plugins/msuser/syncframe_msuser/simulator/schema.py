"""Property tables of the Graph v1.0 entity types the simulator serves.

Extracted from Microsoft's service metadata (``schemas/v1.0-Prod.csdl`` of
microsoftgraph/msgraph-metadata, MIT) so the simulator knows every property name,
its EDM type and nullability without reading files at run time: ``$select`` is
checked against these names, and unset properties are answered with the value the
service would give (``null``, or ``[]`` for non-nullable collections).
"""

from __future__ import annotations

#: name -> (EDM type, nullable), including the inherited ``entity``/``directoryObject`` ones.
USER_PROPERTIES: dict[str, tuple[str, bool]] = {'id': ('Edm.String', False),
 'deletedDateTime': ('Edm.DateTimeOffset', True),
 'aboutMe': ('Edm.String', True),
 'accountEnabled': ('Edm.Boolean', True),
 'ageGroup': ('Edm.String', True),
 'assignedLicenses': ('Collection(graph.assignedLicense)', False),
 'assignedPlans': ('Collection(graph.assignedPlan)', False),
 'authorizationInfo': ('graph.authorizationInfo', True),
 'birthday': ('Edm.DateTimeOffset', False),
 'businessPhones': ('Collection(Edm.String)', False),
 'city': ('Edm.String', True),
 'companyName': ('Edm.String', True),
 'consentProvidedForMinor': ('Edm.String', True),
 'country': ('Edm.String', True),
 'createdDateTime': ('Edm.DateTimeOffset', True),
 'creationType': ('Edm.String', True),
 'customSecurityAttributes': ('graph.customSecurityAttributeValue', True),
 'department': ('Edm.String', True),
 'deviceEnrollmentLimit': ('Edm.Int32', False),
 'displayName': ('Edm.String', True),
 'employeeHireDate': ('Edm.DateTimeOffset', True),
 'employeeId': ('Edm.String', True),
 'employeeLeaveDateTime': ('Edm.DateTimeOffset', True),
 'employeeOrgData': ('graph.employeeOrgData', True),
 'employeeType': ('Edm.String', True),
 'externalUserState': ('Edm.String', True),
 'externalUserStateChangeDateTime': ('Edm.DateTimeOffset', True),
 'faxNumber': ('Edm.String', True),
 'givenName': ('Edm.String', True),
 'hireDate': ('Edm.DateTimeOffset', False),
 'identities': ('Collection(graph.objectIdentity)', True),
 'identityParentId': ('Edm.String', True),
 'imAddresses': ('Collection(Edm.String)', True),
 'interests': ('Collection(Edm.String)', True),
 'isManagementRestricted': ('Edm.Boolean', True),
 'isResourceAccount': ('Edm.Boolean', True),
 'jobTitle': ('Edm.String', True),
 'lastPasswordChangeDateTime': ('Edm.DateTimeOffset', True),
 'legalAgeGroupClassification': ('Edm.String', True),
 'licenseAssignmentStates': ('Collection(graph.licenseAssignmentState)', True),
 'mail': ('Edm.String', True),
 'mailboxSettings': ('graph.mailboxSettings', True),
 'mailNickname': ('Edm.String', True),
 'mobilePhone': ('Edm.String', True),
 'mySite': ('Edm.String', True),
 'officeLocation': ('Edm.String', True),
 'onPremisesDistinguishedName': ('Edm.String', True),
 'onPremisesDomainName': ('Edm.String', True),
 'onPremisesExtensionAttributes': ('graph.onPremisesExtensionAttributes', True),
 'onPremisesImmutableId': ('Edm.String', True),
 'onPremisesLastSyncDateTime': ('Edm.DateTimeOffset', True),
 'onPremisesProvisioningErrors': ('Collection(graph.onPremisesProvisioningError)', True),
 'onPremisesSamAccountName': ('Edm.String', True),
 'onPremisesSecurityIdentifier': ('Edm.String', True),
 'onPremisesSyncEnabled': ('Edm.Boolean', True),
 'onPremisesUserPrincipalName': ('Edm.String', True),
 'otherMails': ('Collection(Edm.String)', False),
 'passwordPolicies': ('Edm.String', True),
 'passwordProfile': ('graph.passwordProfile', True),
 'pastProjects': ('Collection(Edm.String)', True),
 'postalCode': ('Edm.String', True),
 'preferredDataLocation': ('Edm.String', True),
 'preferredLanguage': ('Edm.String', True),
 'preferredName': ('Edm.String', True),
 'print': ('graph.userPrint', True),
 'provisionedPlans': ('Collection(graph.provisionedPlan)', False),
 'proxyAddresses': ('Collection(Edm.String)', False),
 'responsibilities': ('Collection(Edm.String)', True),
 'schools': ('Collection(Edm.String)', True),
 'securityIdentifier': ('Edm.String', True),
 'serviceProvisioningErrors': ('Collection(graph.serviceProvisioningError)', True),
 'showInAddressList': ('Edm.Boolean', True),
 'signInActivity': ('graph.signInActivity', True),
 'signInSessionsValidFromDateTime': ('Edm.DateTimeOffset', True),
 'skills': ('Collection(Edm.String)', True),
 'state': ('Edm.String', True),
 'streetAddress': ('Edm.String', True),
 'surname': ('Edm.String', True),
 'usageLocation': ('Edm.String', True),
 'userPrincipalName': ('Edm.String', True),
 'userType': ('Edm.String', True)}

GROUP_PROPERTIES: dict[str, tuple[str, bool]] = {'id': ('Edm.String', False),
 'deletedDateTime': ('Edm.DateTimeOffset', True),
 'accessType': ('graph.groupAccessType', True),
 'allowExternalSenders': ('Edm.Boolean', True),
 'assignedLabels': ('Collection(graph.assignedLabel)', True),
 'assignedLicenses': ('Collection(graph.assignedLicense)', True),
 'autoSubscribeNewMembers': ('Edm.Boolean', True),
 'classification': ('Edm.String', True),
 'createdDateTime': ('Edm.DateTimeOffset', True),
 'description': ('Edm.String', True),
 'displayName': ('Edm.String', True),
 'expirationDateTime': ('Edm.DateTimeOffset', True),
 'groupTypes': ('Collection(Edm.String)', False),
 'hasMembersWithLicenseErrors': ('Edm.Boolean', True),
 'hideFromAddressLists': ('Edm.Boolean', True),
 'hideFromOutlookClients': ('Edm.Boolean', True),
 'infoCatalogs': ('Collection(Edm.String)', False),
 'isArchived': ('Edm.Boolean', True),
 'isAssignableToRole': ('Edm.Boolean', True),
 'isFavorite': ('Edm.Boolean', True),
 'isManagementRestricted': ('Edm.Boolean', True),
 'isSubscribedByMail': ('Edm.Boolean', True),
 'licenseProcessingState': ('graph.licenseProcessingState', True),
 'mail': ('Edm.String', True),
 'mailEnabled': ('Edm.Boolean', True),
 'mailNickname': ('Edm.String', True),
 'membershipRule': ('Edm.String', True),
 'membershipRuleProcessingState': ('Edm.String', True),
 'onPremisesDomainName': ('Edm.String', True),
 'onPremisesExtensionAttributes': ('graph.onPremisesExtensionAttributes', True),
 'onPremisesLastSyncDateTime': ('Edm.DateTimeOffset', True),
 'onPremisesNetBiosName': ('Edm.String', True),
 'onPremisesProvisioningErrors': ('Collection(graph.onPremisesProvisioningError)', True),
 'onPremisesSamAccountName': ('Edm.String', True),
 'onPremisesSecurityIdentifier': ('Edm.String', True),
 'onPremisesSyncEnabled': ('Edm.Boolean', True),
 'organizationId': ('Edm.String', True),
 'preferredDataLocation': ('Edm.String', True),
 'preferredLanguage': ('Edm.String', True),
 'proxyAddresses': ('Collection(Edm.String)', False),
 'renewedDateTime': ('Edm.DateTimeOffset', True),
 'resourceBehaviorOptions': ('Collection(Edm.String)', False),
 'resourceProvisioningOptions': ('Collection(Edm.String)', False),
 'securityEnabled': ('Edm.Boolean', True),
 'securityIdentifier': ('Edm.String', True),
 'serviceProvisioningErrors': ('Collection(graph.serviceProvisioningError)', True),
 'theme': ('Edm.String', True),
 'uniqueName': ('Edm.String', True),
 'unseenConversationsCount': ('Edm.Int32', True),
 'unseenCount': ('Edm.Int32', True),
 'unseenMessagesCount': ('Edm.Int32', True),
 'visibility': ('Edm.String', True),
 'welcomeMessageEnabled': ('Edm.Boolean', True)}

PRESENCE_PROPERTIES: dict[str, tuple[str, bool]] = {'id': ('Edm.String', False),
 'activity': ('Edm.String', True),
 'availability': ('Edm.String', True),
 'outOfOfficeSettings': ('graph.outOfOfficeSettings', True),
 'sequenceNumber': ('Edm.String', True),
 'statusMessage': ('graph.presenceStatusMessage', True),
 'workLocation': ('graph.userWorkLocation', True)}

#: What ``GET /users`` returns when ``$select`` is absent (docs: user-list; id last as the service does).
DEFAULT_USER_SELECT: tuple[str, ...] = (
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
)

#: Properties only a single-user GET may select; on a collection the service answers 501.
SINGLE_USER_ONLY: frozenset[str] = frozenset(
    {"aboutMe", "birthday", "hireDate", "interests", "mySite", "pastProjects", "preferredName",
     "responsibilities", "schools", "skills", "mailboxSettings"}
)

#: What ``GET /groups`` returns without ``$select`` (a subset the simulator stores).
DEFAULT_GROUP_SELECT: tuple[str, ...] = (
    "id",
    "deletedDateTime",
    "classification",
    "createdDateTime",
    "description",
    "displayName",
    "groupTypes",
    "mail",
    "mailEnabled",
    "mailNickname",
    "securityEnabled",
    "visibility",
)


def unset_value(properties: dict[str, tuple[str, bool]], name: str) -> object:
    """The value the service shows for a property nobody set: ``[]`` for non-nullable
    collections, ``0``-like defaults for the few non-nullable scalars, else ``None``."""
    edm_type, nullable = properties[name]
    if edm_type.startswith("Collection("):
        return None if nullable else []
    if nullable:
        return None
    if edm_type == "Edm.Int32":
        return 15 if name == "deviceEnrollmentLimit" else 0
    if edm_type == "Edm.Boolean":
        return False
    if edm_type == "Edm.DateTimeOffset":
        return "0001-01-01T00:00:00Z"
    return ""
