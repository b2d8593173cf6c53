import { accountInvitesSwitch } from '../../../account-invites-switch.ts'

/** Switches the account's invite codes back on (after disableAccountInvites). */
export const enableAccountInvites = accountInvitesSwitch(
  'com.atproto.admin.enableAccountInvites',
  false,
)
