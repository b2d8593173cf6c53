/**
 * The mails this PDS sends: plain text and HTML with the same words, naming the server and its
 * operator, saying what was asked and what to do if it was not you. No images, no links to
 * elsewhere, nothing that reports back when opened.
 */

import { randomToken } from '../auth/random-token.ts'
import type { Config, MailConfig } from '../config.ts'
import type { AccountTokenPurpose } from '../db/account-tokens.ts'
import { escapeHtml } from '../html.ts'
import type { Mail } from './mailer.ts'

interface Wording {
  subject: string
  asked: string
  use: string
  notYou: string
}

const CHANGE_PASSWORD =
  'Someone who knows your password may be signed in to your account: change your password now.'

const WORDING: Record<AccountTokenPurpose, Wording> = {
  confirm_email: {
    subject: 'Confirm your email address',
    asked: 'You asked to confirm this email address for your account',
    use: 'Enter this code in your app to confirm the address.',
    notYou: 'If it was not you, ignore this mail: the address stays unconfirmed.',
  },
  update_email: {
    subject: 'Code to change your email address',
    asked: 'You asked to change the email address of your account',
    use: 'Enter this code in your app together with the new address.',
    notYou: `If it was not you, do not share the code: the address stays as it is. ${CHANGE_PASSWORD}`,
  },
  reset_password: {
    subject: 'Reset your password',
    asked: 'Someone asked to reset the password of your account',
    use: 'Enter this code in your app to choose a new password. Every device signed in will be signed out.',
    notYou: 'If it was not you, ignore this mail: your password stays as it is.',
  },
  delete_account: {
    subject: 'Code to delete your account',
    asked: 'You asked to delete your account for good',
    use: 'Enter this code in your app with your password to delete the account. This cannot be undone.',
    notYou: `If it was not you, do not share the code: nothing is deleted without it. ${CHANGE_PASSWORD}`,
  },
  plc_operation: {
    subject: 'Code to change your identity (PLC operation)',
    asked:
      'You asked to sign a change to your account identity (its DID document), as when moving the account to another server',
    use: 'Enter this code in the app or tool doing the move.',
    notYou: `If it was not you, do not share the code: your identity stays as it is. ${CHANGE_PASSWORD}`,
  },
  sign_in: {
    subject: 'Your sign-in code',
    asked: 'Someone signed in to your account with your password and needs this code to finish',
    use: 'Enter this code where you are signing in.',
    notYou: `If it was not you, do not share the code. ${CHANGE_PASSWORD}`,
  },
}

export interface CodeMailInput {
  to: string
  handle: string
  purpose: AccountTokenPurpose
  code: string
  expiresAt: Date
}

export function composeCodeMail(config: Config, mail: MailConfig, input: CodeMailInput): Mail {
  const words = WORDING[input.purpose]
  const host = config.hostname
  const minutes = Math.max(1, Math.round((input.expiresAt.getTime() - Date.now()) / 60_000))
  const contact = config.contactEmail
    ? `Questions? Write to the operator of ${host}: ${config.contactEmail}`
    : `This mail was sent by the operator of ${host}.`
  const lines = [
    `${words.asked} @${input.handle} on ${host}.`,
    '',
    `Your code: ${input.code}`,
    '',
    `${words.use} It works once, for ${minutes} minutes.`,
    '',
    words.notYou,
    '',
    '--',
    contact,
  ]
  const esc = escapeHtml
  const html = [
    '<!doctype html>',
    '<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">',
    `<title>${esc(words.subject)}</title></head>`,
    '<body style="font-family:sans-serif;line-height:1.5;max-width:36em">',
    `<p>${esc(words.asked)} <b>@${esc(input.handle)}</b> on ${esc(host)}.</p>`,
    `<p>Your code:</p><p style="font-size:1.6em;font-family:monospace;letter-spacing:.1em"><b>${esc(input.code)}</b></p>`,
    `<p>${esc(words.use)} It works once, for ${minutes} minutes.</p>`,
    `<p>${esc(words.notYou)}</p>`,
    `<hr><p style="color:#555;font-size:.9em">${esc(contact)}</p>`,
    '</body></html>',
  ].join('\n')
  return {
    from: mail.from,
    to: input.to,
    subject: `${words.subject} (${host})`,
    text: `${lines.join('\n')}\n`,
    html,
    date: new Date(),
    messageId: `<${randomToken(16, 'base32')}@${host}>`,
    code: input.code,
  }
}

export { escapeHtml }
