import { describe, expect, it } from 'vitest'
import { ConfigError, readConfig } from '../../src/config.ts'

const secrets = {
  PDS_JWT_SECRET: 'j',
  PDS_ADMIN_PASSWORD: 'a',
  PDS_PLC_ROTATION_KEY: '11'.repeat(32),
  PDS_KEY_ENCRYPTION_SECRET: 'k',
}

function configError(env: Record<string, string>): ConfigError {
  try {
    readConfig(env)
  } catch (err) {
    if (err instanceof ConfigError) return err
    throw err
  }
  throw new Error('expected a ConfigError')
}

describe('readConfig outside local development', () => {
  it('refuses to start without a hostname and the secrets, naming each missing setting', () => {
    const err = configError({})
    expect(err.missing).toEqual([
      'PDS_HOSTNAME',
      'PDS_JWT_SECRET',
      'PDS_ADMIN_PASSWORD',
      'PDS_PLC_ROTATION_KEY',
      'PDS_KEY_ENCRYPTION_SECRET',
    ])
    expect(err.message).toContain('PDS_HOSTNAME')
    expect(err.message).toContain('PDS_DEV_MODE=true')
    expect(configError({ PDS_HOSTNAME: 'pds.example.com' }).missing).not.toContain('PDS_HOSTNAME')
  })

  it('refuses a local hostname or a plain-http public URL', () => {
    expect(configError({ ...secrets, PDS_HOSTNAME: 'localhost' }).message).toMatch(/localhost/)
    const http = {
      ...secrets,
      PDS_HOSTNAME: 'pds.example.com',
      PDS_PUBLIC_URL: 'http://pds.example.com',
    }
    expect(configError(http).message).toMatch(/https/)
  })

  it('is production once configured: https, no dev mode', () => {
    const config = readConfig({ ...secrets, PDS_HOSTNAME: 'pds.example.com' })
    expect(config.devMode).toBe(false)
    expect(config.publicUrl).toBe('https://pds.example.com')
    expect(config.serviceDid).toBe('did:web:pds.example.com')
  })
})

describe('readConfig in local development', () => {
  it('runs on localhost only when asked to, secrets or not', () => {
    const config = readConfig({ PDS_DEV_MODE: 'true' })
    expect(config.devMode).toBe(true)
    expect(config.hostname).toBe('localhost')
    expect(config.publicUrl).toBe('http://localhost:2583')
    expect(config.secrets.jwtSecret).toBeNull()
  })
})

describe('rate limits and the moderation service', () => {
  const dev = { PDS_DEV_MODE: 'true' }

  it('sets any abuse limit by name, max and window, and refuses unknown names', () => {
    const config = readConfig({
      ...dev,
      PDS_RATE_LIMITS: 'createSession-ip=200/600, admin-auth-fail-ip=5',
    })
    expect(config.rateLimits.createSessionPerIp).toEqual({
      name: 'createSession-ip',
      max: 200,
      windowSeconds: 600,
    })
    expect(config.rateLimits.adminAuthFailuresPerIp).toEqual({
      name: 'admin-auth-fail-ip',
      max: 5,
      windowSeconds: 300,
    })
    expect(config.rateLimits.createAccountPerIp.max).toBe(50)
    expect(configError({ ...dev, PDS_RATE_LIMITS: 'createSesion-ip=1' }).message).toMatch(
      /createSession-ip/,
    )
    expect(() => readConfig({ ...dev, PDS_RATE_LIMITS: 'createSession-ip=1/90000' })).toThrow(
      ConfigError,
    )
    const writes = readConfig({ ...dev, PDS_RATE_LIMIT_WRITE_POINTS_HOUR: '100' })
    expect(writes.accountLimits.repoWritePointsPerHour).toBe(100)
  })

  it('trusts the moderation service DID (without fragment), or none', () => {
    expect(readConfig(dev).modServiceDid).toBe('did:plc:ar7c4by46qjdydhdevvrndac')
    expect(readConfig({ ...dev, PDS_MOD_SERVICE_DID: 'did:web:mod.example' }).modServiceDid).toBe(
      'did:web:mod.example',
    )
    expect(readConfig({ ...dev, PDS_MOD_SERVICE_DID: 'none' }).modServiceDid).toBeNull()
    expect(() => readConfig({ ...dev, PDS_MOD_SERVICE_DID: 'not a did' })).toThrow(ConfigError)
  })
})

describe('the mailer settings', () => {
  const deployed = { ...secrets, PDS_HOSTNAME: 'pds.example.com' }

  it('no PDS_MAILER is no mailer', () => {
    expect(readConfig(deployed).mail).toBeNull()
    expect(readConfig({ ...deployed, PDS_MAILER: 'none' }).mail).toBeNull()
  })

  it('cloudflare and resend need a sender; resend its key; the API URL can move', () => {
    expect(configError({ ...deployed, PDS_MAILER: 'cloudflare' }).message).toMatch(/PDS_EMAIL_FROM/)
    const from = 'PDS <noreply@pds.example.com>'
    expect(
      readConfig({ ...deployed, PDS_MAILER: 'cloudflare', PDS_EMAIL_FROM: from }).mail,
    ).toEqual({
      mailer: 'cloudflare',
      from,
      resendApiUrl: 'https://api.resend.com',
    })
    expect(
      configError({ ...deployed, PDS_MAILER: 'resend', PDS_EMAIL_FROM: from }).message,
    ).toMatch(/PDS_RESEND_API_KEY/)
    const resend = readConfig({
      ...deployed,
      PDS_MAILER: 'resend',
      PDS_EMAIL_FROM: from,
      PDS_RESEND_API_KEY: 're_x',
      PDS_RESEND_API_URL: 'http://127.0.0.1:9999/',
    })
    expect(resend.mail?.resendApiUrl).toBe('http://127.0.0.1:9999')
    expect(resend.secrets.resendApiKey).toBe('re_x')
  })

  it('the development mailbox only in local development', () => {
    expect(configError({ ...deployed, PDS_MAILER: 'dev' }).message).toMatch(/PDS_DEV_MODE/)
    expect(readConfig({ PDS_DEV_MODE: 'true', PDS_MAILER: 'dev' }).mail).toMatchObject({
      mailer: 'dev',
      from: 'PDS <noreply@localhost>',
    })
  })

  it('refuses an unknown mailer and a sender that is not an address', () => {
    expect(configError({ ...deployed, PDS_MAILER: 'smtp' }).message).toMatch(/PDS_MAILER/)
    for (const from of ['PDS', 'PDS <nobody>', 'a@b\r\nBcc: x@y']) {
      expect(
        configError({ ...deployed, PDS_MAILER: 'cloudflare', PDS_EMAIL_FROM: from }).message,
      ).toMatch(/PDS_EMAIL_FROM/)
    }
  })
})
