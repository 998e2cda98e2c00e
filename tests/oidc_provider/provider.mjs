// A real OpenID Connect provider for the studio's sign-in tests: node's certified oidc-provider,
// on loopback, on a free port. It prints {"issuer": URL} on its first line once it listens.
//
// Its accounts are the tests' to set (POST /_test/accounts {"id": {"email", "name", "groups"}}),
// so a test can take a person out of a group between two sign-ins. POST /_test/tamper
// {"mode": "forge" | "expire" | null} changes the next ID tokens the token endpoint answers with:
// "forge" signs them with a key the provider never published (same key id), "expire" moves their
// expiry an hour into the past and signs them with the provider's own key. A provider will not
// issue such tokens on demand; the studio must refuse them when an attacker or a clock does.
//
// Arguments: a JSON object {"client_id", "client_secret", "redirect_uris": [...]}.
import { createServer } from 'node:http';
import { generateKeyPair, exportJWK, SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import Provider from 'oidc-provider';

const client = JSON.parse(process.argv[2]);
const KID = 'studio-test-key';
const signing = await generateKeyPair('RS256', { extractable: true });
const attacker = await generateKeyPair('RS256', { extractable: true });
const jwk = { ...(await exportJWK(signing.privateKey)), kid: KID, alg: 'RS256', use: 'sig' };

const accounts = new Map();
let tamper = null;

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{ ...client, grant_types: ['authorization_code'], response_types: ['code'] }],
  jwks: { keys: [jwk] },
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
    groups: ['groups'],
  },
  async findAccount(ctx, id) {
    const account = accounts.get(id);
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, preferred_username: id, email_verified: true, ...account };
      },
    };
  },
  // A company's provider asks no consent for its own applications: the grant is made at sign-in.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile groups');
    await grant.save();
    return grant;
  },
  features: { devInteractions: { enabled: true } },
});

provider.use(async (ctx, next) => {
  await next();
  if (ctx.path !== '/token' || !tamper || !ctx.body?.id_token) return;
  const claims = decodeJwt(ctx.body.id_token);
  const { alg } = decodeProtectedHeader(ctx.body.id_token);
  const now = Math.floor(Date.now() / 1000);
  if (tamper === 'expire') Object.assign(claims, { iat: now - 7200, exp: now - 3600 });
  const key = tamper === 'forge' ? attacker.privateKey : signing.privateKey;
  ctx.body = {
    ...ctx.body,
    id_token: await new SignJWT(claims).setProtectedHeader({ alg, kid: KID }).sign(key),
  };
});

const app = provider.callback();
server.on('request', (req, res) => {
  if (!req.url.startsWith('/_test/')) return app(req, res);
  let body = '';
  req.on('data', (chunk) => { body += chunk; });
  req.on('end', () => {
    const data = JSON.parse(body || '{}');
    if (req.url === '/_test/accounts') {
      for (const [id, account] of Object.entries(data)) accounts.set(id, account);
    } else if (req.url === '/_test/tamper') {
      tamper = data.mode ?? null;
    } else {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(204).end();
  });
});

process.stdout.write(`${JSON.stringify({ issuer })}\n`);
