/**
 * What the operator does after the deploy: DNS for handle routes, the certificate question for
 * deeper handle domains, the first account, and asking relays to crawl.
 */
import type { Deployment } from './settings.ts'

export function nextSteps(d: Deployment, handleZones: Map<string, string>): string {
  const lines: string[] = ['Next steps:']
  let n = 1
  const step = (text: string) => lines.push(`${n++}. ${text}`)
  for (const domain of d.handleDomains) {
    const zone = handleZones.get(domain) ?? domain.slice(1)
    const wildcard = `*${domain}`
    step(
      `DNS for handles under ${domain}: in the zone ${zone}, add a proxied (orange cloud) record\n` +
        `   ${wildcard}  AAAA  100::\n` +
        `   The route ${wildcard}/* only runs the Worker for names that resolve to Cloudflare; 100:: is\n` +
        '   the conventional "no origin" address, the Worker answers every request itself.',
    )
    const depth = domain.slice(1).split('.').length - zone.split('.').length
    if (depth > 0) {
      lines.push(
        `   ${wildcard} is ${depth + 1} levels below the zone ${zone}: Cloudflare's free Universal SSL\n` +
          `   certificate covers only ${zone} and *.${zone}, so handles like alice${domain} need another\n` +
          `   certificate for ${wildcard} (Advanced Certificate Manager, or Total TLS).`,
      )
    } else {
      lines.push(
        `   One wildcard level is covered by the free certificate (*.${zone}); deeper names\n` +
          `   (a.b${domain}) would need another certificate (Advanced Certificate Manager).`,
      )
      lines.push(
        `   The route sends every other name under ${zone} (www${domain} too) to the PDS: give it\n` +
          '   a domain of its own if other sites live there.',
      )
    }
  }
  const origin = `https://${d.hostname}`
  step(
    `Create the first account:\n   npm run pds -- account create --url ${origin} --handle alice${d.handleDomains[0]} --email you@example.com`,
  )
  step(`Ask the relays to crawl this PDS:\n   npm run pds -- request-crawl --url ${origin}`)
  step(`Check it any time:  npm run pds -- status --url ${origin}`)
  step('Upgrade later: git pull && npm install && npm run deploy (secrets and data are kept)')
  return lines.join('\n')
}
