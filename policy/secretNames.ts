/**
 * Names that look like they hold a secret. The same rule as the program's (config.ts SECRET_LIKE,
 * which refuses such names in onedigest:app.env): config.ts does not export it, and the pack must
 * run on its own (`pulumi policy publish` uploads policy/ alone), so it is written again here and
 * test/secretNames.test.ts checks that the two agree.
 */
export const SECRET_LIKE = /(SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL|PRIVATE|API_?KEY|ACCESS_?KEY)/;

/** True for a name such as SECRET_KEY, DB_PASSWORD or STRIPE_API_KEY (any case). */
export function looksSecret(name: string): boolean {
    return SECRET_LIKE.test(name.toUpperCase());
}
