/** `.dev.vars` (written by `npm run dev`): the local PDS's settings and secrets. */
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const devVarsPath = fileURLToPath(new URL('../../.dev.vars', import.meta.url))

export function readDevVars(path = devVarsPath): Record<string, string> {
  if (!existsSync(path)) return {}
  const vars: Record<string, string> = {}
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const match = /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line)
    if (match) vars[match[1]!] = match[2]!.replace(/^"(.*)"$/, '$1')
  }
  return vars
}
