// A real OpenID Connect provider (the `oidc-provider` package) for the identity service's
// SSO tests. Configuration comes as JSON in OIDC_TEST_CONFIG:
//   { "client_id", "client_secret", "redirect_uris": [..],
//     "accounts": { "<login>": { "sub", "email", "email_verified", "given_name", "family_name" } } }
// It listens on a random loopback port and prints `LISTENING <port>` once ready.
// Interactions are a minimal form flow a browser-less client can follow:
//   GET  /interaction/:uid          -> login form (field `login`) or consent form
//   POST /interaction/:uid/login    -> signs in the named account
//   POST /interaction/:uid/confirm  -> grants the requested scopes
import http from 'node:http';
import Provider from 'oidc-provider';

const config = JSON.parse(process.env.OIDC_TEST_CONFIG || '{}');
const accounts = config.accounts || {};

function readForm(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => resolve(new URLSearchParams(body)));
    req.on('error', reject);
  });
}

function page(res, html) {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><html><body>${html}</body></html>`);
}

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: config.client_id,
      client_secret: config.client_secret,
      redirect_uris: config.redirect_uris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
    }],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['given_name', 'family_name', 'name'],
    },
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(ctx, id) {
      const entry = Object.values(accounts).find((a) => a.sub === id);
      if (!entry) return undefined;
      return {
        accountId: id,
        async claims() {
          return {
            sub: id,
            email: entry.email,
            email_verified: entry.email_verified,
            given_name: entry.given_name,
            family_name: entry.family_name,
            name: `${entry.given_name} ${entry.family_name}`,
          };
        },
      };
    },
  });
  provider.proxy = false;
  const handle = provider.callback();

  server.on('request', async (req, res) => {
    const url = new URL(req.url, issuer);
    const m = url.pathname.match(/^\/interaction\/([^/]+)(\/login|\/confirm)?$/);
    if (!m) return handle(req, res);
    try {
      const details = await provider.interactionDetails(req, res);
      const uid = m[1];
      if (req.method === 'GET') {
        if (details.prompt.name === 'login') {
          return page(res, `<form method="post" action="/interaction/${uid}/login">`
            + '<input name="login"><button>Sign in</button></form>');
        }
        return page(res, `<form method="post" action="/interaction/${uid}/confirm">`
          + '<button>Allow</button></form>');
      }
      const form = await readForm(req);
      if (m[2] === '/login') {
        const account = accounts[form.get('login')];
        if (!account) return page(res, 'unknown account');
        return provider.interactionFinished(req, res,
          { login: { accountId: account.sub } }, { mergeWithLastSubmission: false });
      }
      const { params, session } = details;
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
      grant.addOIDCScope(params.scope);
      const grantId = await grant.save();
      return provider.interactionFinished(req, res,
        { consent: { grantId } }, { mergeWithLastSubmission: true });
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err && err.message));
    }
  });
  process.stdout.write(`LISTENING ${port}\n`);
});
