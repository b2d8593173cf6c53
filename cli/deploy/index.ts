/**
 * `npm run deploy`: from a fresh clone to a running PDS on Cloudflare, and the same command
 * upgrades it. Each step is a module of this folder, in the order they run here. Every answer
 * is also a flag or an environment variable (`--help`), and `--dry-run` changes nothing.
 */
import { parseArgs } from 'node:util'
import { createAsker } from '../shared/prompt.ts'
import { runWrangler } from '../shared/wrangler.ts'
import { collectAnswers, FLAG_NAMES } from './answers.ts'
import { CloudflareApiError } from './cloudflare-api.ts'
import { nextSteps } from './next-steps.ts'
import {
  checkVersions,
  chooseAccount,
  createCloudflareApi,
  credentials,
  findZone,
  PreflightError,
} from './preflight.ts'
import { ensureBucket, ensureDatabase, ensureReadReplication } from './resources.ts'
import { createRunner } from './runner.ts'
import { existingSecrets, generateMissing, setSecrets, showOnce, writeBackup } from './secrets.ts'
import { type Deployment, resourceName } from './settings.ts'
import { checkLive, LiveCheckError } from './verify.ts'
import {
  configPath,
  knownDeployments,
  readBaseConfig,
  readDeploymentConfig,
  renderConfig,
  writeDeploymentConfig,
} from './wrangler-config.ts'

const HELP = `npm run deploy -- [options]

Deploys this checkout to Cloudflare (creates what is missing, keeps secrets and data).
Each option can also be given as the environment variable beside it.

  --hostname <name>          PDS_HOSTNAME         the PDS's hostname, e.g. pds.example.com
  --handle-domains <list>    PDS_HANDLE_DOMAINS   handle suffixes, e.g. .example.com
  --contact-email <email>    PDS_CONTACT_EMAIL
  --invite-required <bool>   PDS_INVITE_REQUIRED  invites on (true) or off (false)
  --mailer <name>            PDS_MAILER           cloudflare | resend | none
  --email-from <email>       PDS_EMAIL_FROM       sender address (with a mailer)
                             PDS_RESEND_API_KEY   the Resend API key (with --mailer resend)
  --account-id <id>          CLOUDFLARE_ACCOUNT_ID
  --backup-secrets <file>    also write the generated secrets to this new file (mode 600)
  --check-url <origin>       PDS_DEPLOY_CHECK_URL check this origin instead of https://<hostname>
  --check-timeout <seconds>  how long to wait for the live PDS (default 120)
  --dry-run                  print every action, change nothing
  --yes, -y                  ask nothing: take defaults, fail on a missing answer
  --help, -h

Credentials: CLOUDFLARE_API_TOKEN, or \`npx wrangler login\` beforehand.`

async function main(): Promise<void> {
  const { values: flags } = parseArgs({
    options: {
      hostname: { type: 'string' },
      'handle-domains': { type: 'string' },
      'contact-email': { type: 'string' },
      'invite-required': { type: 'string' },
      mailer: { type: 'string' },
      'email-from': { type: 'string' },
      'account-id': { type: 'string' },
      'backup-secrets': { type: 'string' },
      'check-url': { type: 'string' },
      'check-timeout': { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      yes: { type: 'boolean', short: 'y', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (flags.help) {
    console.log(HELP)
    return
  }
  const runner = createRunner(flags['dry-run'])
  const asker = createAsker(!flags.yes && process.stdin.isTTY === true)
  try {
    // Preflight
    const versions = checkVersions()
    runner.info(`✓ Node ${versions.node}, wrangler ${versions.wrangler}`)
    const creds = await credentials()
    const api = createCloudflareApi(creds.token)
    const account = await chooseAccount(
      api,
      asker,
      flags['account-id'] ?? process.env.CLOUDFLARE_ACCOUNT_ID,
    )
    runner.info(
      `✓ Cloudflare account ${account.name} (${account.id}), credentials from ${creds.source}`,
    )
    // wrangler must deploy to the same account (its own choice could differ, or prompt).
    process.env.CLOUDFLARE_ACCOUNT_ID = account.id

    // Questions
    const known = knownDeployments()
    const answers = await collectAnswers(
      asker,
      {
        flags: Object.fromEntries(
          Object.keys(FLAG_NAMES).map((k) => [k, flags[k as keyof typeof flags] as string]),
        ),
        env: process.env,
        previousFor: (hostname) => readDeploymentConfig(hostname)?.vars ?? null,
      },
      known.length === 1 ? known[0] : undefined,
    )
    const deployment: Deployment = {
      ...answers,
      accountId: account.id,
      name: resourceName(answers.hostname),
    }
    const zone = await findZone(api, account.id, deployment.hostname)
    runner.info(`✓ ${deployment.hostname} is in the zone ${zone}`)
    const handleZones = new Map<string, string>()
    for (const domain of deployment.handleDomains) {
      handleZones.set(domain, await findZone(api, account.id, domain.slice(1)))
    }

    // Resources and configuration
    const databaseId = await ensureDatabase(api, runner, account.id, deployment.name)
    await ensureReadReplication(api, runner, account.id, databaseId)
    await ensureBucket(api, runner, account.id, deployment.name)
    const previous = readDeploymentConfig(deployment.hostname)
    const config = renderConfig(await readBaseConfig(), {
      deployment,
      databaseId,
      handleZones,
      previousVars: previous?.vars,
    })
    const configFile = flags['dry-run']
      ? configPath(deployment.hostname)
      : writeDeploymentConfig(deployment.hostname, config)
    runner.info(`${flags['dry-run'] ? '[dry-run] would write' : '✓ wrote'} ${configFile}`)
    if (flags['dry-run']) runner.info(JSON.stringify(config, null, 2))

    // Secrets are generated before anything is deployed, so a failure here changes nothing.
    const existing = await existingSecrets(api, account.id, deployment.name)
    const secrets = await generateMissing(deployment, existing, asker)

    const wrangler = (what: string, args: string[]) =>
      runner.act(
        what,
        () => runWrangler([...args, '--config', configFile], { echo: true }),
        undefined,
      )
    await wrangler('apply the D1 migrations remotely (wrangler d1 migrations apply --remote)', [
      'd1',
      'migrations',
      'apply',
      'DB',
      '--remote',
    ])
    await wrangler(
      `deploy the Worker ${deployment.name} with its Durable Object migrations, Cron Trigger, ` +
        `Custom Domain ${deployment.hostname} and routes ${deployment.handleDomains.map((d) => `*${d}/*`).join(', ')}`,
      ['deploy'],
    )
    await setSecrets(runner, configFile, secrets)
    if (!flags['dry-run']) {
      const backup = flags['backup-secrets']
      if (backup && Object.keys(secrets.values).length > 0) {
        writeBackup(backup, deployment.hostname, secrets)
        runner.info(`✓ wrote the new secrets to ${backup} (mode 600): keep it offline`)
      }
      showOnce(secrets)
    }

    // Live check
    const origin = (
      flags['check-url'] ??
      process.env.PDS_DEPLOY_CHECK_URL ??
      `https://${deployment.hostname}`
    ).replace(/\/+$/, '')
    if (flags['dry-run'])
      runner.info(`[dry-run] would check ${origin}/xrpc/_health and describeServer`)
    else {
      const live = await checkLive(origin, Number(flags['check-timeout'] ?? 120) * 1000)
      if (live) {
        runner.info(
          `✓ ${origin} is up: version ${live.version}, ${live.did}, handles ${live.availableUserDomains.join(', ')}, invites ${live.inviteCodeRequired ? 'required' : 'not required'}`,
        )
      } else {
        runner.info(
          `! ${origin} does not answer yet: a new Custom Domain can take a few minutes to get its certificate.\n` +
            `  Check again with: npm run pds -- status --url ${origin}`,
        )
      }
    }
    console.log(`\n${nextSteps(deployment, handleZones)}`)
  } finally {
    asker.close()
  }
}

main().catch((err: unknown) => {
  const known =
    err instanceof PreflightError ||
    err instanceof CloudflareApiError ||
    err instanceof LiveCheckError ||
    (err instanceof Error && ['MissingAnswerError', 'WranglerError'].includes(err.name))
  console.error(`\n✗ ${known ? (err as Error).message : ((err as Error).stack ?? err)}`)
  process.exit(1)
})
