import { accountInvitesSwitch } from '../../../account-invites-switch.ts'

/** Switches off the account's invite codes: none lets anyone sign up until enabled again. */
export const disableAccountInvites = accountInvitesSwitch(
  'com.atproto.admin.disableAccountInvites',
  true,
)
