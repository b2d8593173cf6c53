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
