/**
 * A JSON response from text already in atproto JSON form (records as the D1 index stores
 * them), for read paths that splice stored JSON instead of parsing and re-encoding it. Only
 * used when responses are not being validated (the production setting); with validation on,
 * handlers return objects so the dispatcher can check them against the Lexicon.
 */
export function jsonTextResponse(text: string): Response {
  return new Response(text, { headers: { 'Content-Type': 'application/json; charset=utf-8' } })
}
