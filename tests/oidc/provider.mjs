// A real OpenID Connect provider (panva's oidc-provider) laid out like one Keycloak realm, for tests.
//
// Configured only by the environment:
//   OIDC_PORT      port to listen on, on 127.0.0.1 (required: the issuer contains it)
//   OIDC_REALM     realm name (default "renda"); issuer = http://127.0.0.1:PORT/realms/REALM
//   OIDC_CLIENTS   JSON list of client metadata (client_id, client_secret, redirect_uris,
//                  post_logout_redirect_uris, ...); defaults: grant_types authorization_code +
//                  refresh_token, response_types code, token_endpoint_auth_method
//                  client_secret_post (what python-keycloak sends), or "none" without a secret;
//                  require_auth_time true
//   OIDC_ACCOUNTS  path of a JSON file: list of {username, password, sub, name, email, groups,
//                  realm_roles, attributes, given_name?, family_name?, email_verified?}
//   OIDC_JWKS      private JWKS ({"keys": [RSA key with kid]}) signing every token; generated if unset
//   OIDC_ID_TOKEN_TTL, OIDC_ACCESS_TOKEN_TTL, OIDC_REFRESH_TOKEN_TTL, OIDC_SESSION_TTL  seconds
//   OIDC_ROTATE_REFRESH_TOKEN  "1": every refresh consumes the refresh token and issues a new one
//   OIDC_COOKIE_KEYS  comma-separated keys signing the provider's cookies; random if unset
//
// Keycloak's URL layout: /realms/REALM/.well-known/openid-configuration and
// /realms/REALM/protocol/openid-connect/{auth,token,certs,userinfo,logout,token/introspect,revoke};
// GET /realms/REALM answers like Keycloak's realm info (public_key). The sign-in page lives at
// /realms/REALM/login-actions/authenticate/UID. Keycloak's own POST /logout with a refresh_token
// (python-keycloak's KeycloakOpenID.logout) ends the user's session and answers 204.
//
// Prints "READY <issuer>" on stdout once listening; exits on SIGTERM or SIGINT.

import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { URLSearchParams } from 'node:url';

import Provider from 'oidc-provider';
// The package's own in-memory store, passed explicitly: state lives as long as this test process.
import { createMemoryAdapter } from 'oidc-provider/lib/adapters/memory_adapter.js';

const env = process.env;

function seconds(name, fallback) {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, not ${raw}`);
  return value;
}

const port = Number(env.OIDC_PORT);
if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error('OIDC_PORT must be a port number');
const realm = env.OIDC_REALM || 'renda';
if (!/^[A-Za-z0-9._-]+$/.test(realm)) throw new Error(`OIDC_REALM has unsupported characters: ${realm}`);
const prefix = `/realms/${realm}`;
const issuer = `http://127.0.0.1:${port}${prefix}`;
const loginPath = `${prefix}/login-actions/authenticate/`;
const logoutPath = '/protocol/openid-connect/logout';

// --- accounts --------------------------------------------------------------------------------

const accountList = env.OIDC_ACCOUNTS ? JSON.parse(readFileSync(env.OIDC_ACCOUNTS, 'utf8')) : [];
const accountsBySub = new Map();
const accountsByLogin = new Map();
for (const raw of accountList) {
  if (!raw.username || typeof raw.password !== 'string') throw new Error('every account needs a username and a password');
  const account = { ...raw, sub: raw.sub || raw.username };
  accountsBySub.set(account.sub, account);
  accountsByLogin.set(account.username.toLowerCase(), account);
  if (account.email) accountsByLogin.set(account.email.toLowerCase(), account);
}
// User attributes reach the tokens as claims of the same name (as Keycloak's user-attribute mappers).
const attributeClaims = [...new Set(accountList.flatMap((a) => Object.keys(a.attributes || {})))];

// --- signing keys ----------------------------------------------------------------------------

function generatedJwks() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { keys: [{ ...jwk, kid: randomBytes(12).toString('base64url'), alg: 'RS256', use: 'sig' }] };
}

const jwks = env.OIDC_JWKS ? JSON.parse(env.OIDC_JWKS) : generatedJwks();
const signingKey = jwks.keys.find((k) => k.kty === 'RSA') || jwks.keys[0];
// Keycloak's realm info carries the realm key as base64 DER SubjectPublicKeyInfo.
const realmPublicKey = createPublicKey({ key: signingKey, format: 'jwk' })
  .export({ type: 'spki', format: 'der' }).toString('base64');

// --- clients ---------------------------------------------------------------------------------

const clients = JSON.parse(env.OIDC_CLIENTS || '[]').map((c) => ({
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: c.client_secret ? 'client_secret_post' : 'none',
  require_auth_time: true, // Keycloak's ID tokens always carry auth_time
  ...c,
}));

// --- HTML ------------------------------------------------------------------------------------

function esc(value) {
  return String(value ?? '').replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function page(title, body, extraHead = '') {
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>${esc(title)}</title>${extraHead}</head>
<body>
${body}
</body>
</html>
`;
}

function loginPage(action, { username = '', error = '' } = {}) {
  const alert = error ? `<p id="input-error" role="alert">${esc(error)}</p>\n` : '';
  return page(`Sign in to ${realm}`, `<h1 id="kc-page-title">Sign in to your account</h1>
${alert}<form id="kc-form-login" method="post" action="${esc(action)}">
  <p><label for="username">Username or email</label>
  <input id="username" name="username" type="text" value="${esc(username)}" autocomplete="username" autofocus></p>
  <p><label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password"></p>
  <p><button type="submit" id="kc-login" name="login">Sign In</button></p>
</form>`);
}

// --- the provider ----------------------------------------------------------------------------

const idTokenTtl = seconds('OIDC_ID_TOKEN_TTL', 300);
const accessTokenTtl = seconds('OIDC_ACCESS_TOKEN_TTL', 300);
const refreshTokenTtl = seconds('OIDC_REFRESH_TOKEN_TTL', 1800);
const sessionTtl = seconds('OIDC_SESSION_TTL', 36000);
const rotateRefreshToken = env.OIDC_ROTATE_REFRESH_TOKEN === '1';
const cookieKeys = env.OIDC_COOKIE_KEYS
  ? env.OIDC_COOKIE_KEYS.split(',')
  : [randomBytes(32).toString('base64url')];

function claimsFor(ctx, account, use) {
  const claims = {
    sub: account.sub,
    preferred_username: account.username,
    name: account.name,
    given_name: account.given_name,
    family_name: account.family_name,
    email: account.email,
    email_verified: account.email ? account.email_verified ?? true : undefined,
    groups: account.groups || [],
    realm_access: { roles: account.realm_roles || [] },
    ...(account.attributes || {}),
  };
  if (use === 'id_token') {
    // Keycloak: azp = the client the token was issued to; sid = the user (SSO) session, one value
    // for every client of that session; typ = "ID".
    const { AuthorizationCode: code, RefreshToken: refresh } = ctx.oidc.entities;
    claims.azp = ctx.oidc.client?.clientId;
    claims.sid = code?.sessionUid || refresh?.sessionUid || ctx.oidc.session?.uid;
    claims.typ = 'ID';
  }
  return claims;
}

const provider = new Provider(issuer, {
  adapter: createMemoryAdapter(),
  clients,
  jwks,
  cookies: {
    keys: cookieKeys,
    names: { session: 'oidc_session', interaction: 'oidc_interaction', resume: 'oidc_interaction_resume' },
  },
  async findAccount(ctx, id) {
    const account = accountsBySub.get(id);
    if (!account) return undefined;
    return { accountId: id, claims: async (use) => claimsFor(ctx, account, use) };
  },
  claims: {
    openid: ['sub', 'azp', 'sid', 'typ', 'groups', 'realm_access', ...attributeClaims],
    profile: ['name', 'given_name', 'family_name', 'preferred_username'],
    email: ['email', 'email_verified'],
  },
  // Scopes Keycloak knows by default; asking for them is not an error.
  scopes: ['openid', 'offline_access', 'profile', 'email', 'roles', 'web-origins', 'acr', 'basic', 'groups'],
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  // Keycloak issues a refresh token with every authorization code, offline_access or not; it then
  // lives no longer than the user session (expiresWithSession, the default).
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: () => rotateRefreshToken,
  // Every configured client is first-party (Keycloak's "consent required" off): grant what it asks.
  async loadExistingGrant(ctx) {
    const { oidc } = ctx;
    const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId);
    let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
    if (!grant || grant.accountId !== oidc.account.accountId) {
      grant = new oidc.provider.Grant({ accountId: oidc.account.accountId, clientId: oidc.client.clientId });
    }
    const scopes = [...oidc.requestParamOIDCScopes];
    if (scopes.length) grant.addOIDCScope(scopes.join(' '));
    const claims = [...oidc.requestParamClaims];
    if (claims.length) grant.addOIDCClaims(claims);
    await grant.save();
    return grant;
  },
  interactions: {
    url: (ctx, interaction) => `${loginPath}${interaction.uid}`,
  },
  routes: {
    authorization: '/protocol/openid-connect/auth',
    token: '/protocol/openid-connect/token',
    jwks: '/protocol/openid-connect/certs',
    userinfo: '/protocol/openid-connect/userinfo',
    end_session: logoutPath,
    introspection: '/protocol/openid-connect/token/introspect',
    revocation: '/protocol/openid-connect/revoke',
  },
  features: {
    devInteractions: { enabled: false },
    introspection: { enabled: true, allowedPolicy: async () => true },
    revocation: { enabled: true, allowedPolicy: async () => true },
    rpInitiatedLogout: {
      enabled: true,
      // Keycloak asks nothing when the request names the client (id_token_hint or client_id): the
      // confirmation form submits itself ("logout=yes" ends the whole session, as Keycloak does).
      async logoutSource(ctx, form) {
        const autoForm = form.replace('</form>', '<input type="hidden" name="logout" value="yes"/></form>');
        ctx.type = 'html';
        ctx.body = page('Logging out', `${autoForm}
<noscript><button type="submit" form="op.logoutForm" id="kc-logout">Logout</button></noscript>`,
        '<script>document.addEventListener("DOMContentLoaded", function () { document.forms[0].submit() });</script>');
      },
      async postLogoutSuccessSource(ctx) {
        ctx.type = 'html';
        ctx.body = page('Logged out', '<h1>You are logged out</h1>');
      },
    },
  },
  ttl: {
    AccessToken: accessTokenTtl,
    AuthorizationCode: 60,
    ClientCredentials: accessTokenTtl,
    Grant: sessionTtl,
    IdToken: idTokenTtl,
    Interaction: 1800,
    RefreshToken: refreshTokenTtl,
    Session: sessionTtl,
  },
  clientBasedCORS: () => true,
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Error', `<h1 id="kc-page-title">We are sorry...</h1>
<p id="kc-error-message">${esc(out.error)}: ${esc(out.error_description)}</p>`);
  },
});

// --- Keycloak's own logout: POST /logout with client credentials and a refresh_token -----------
// oidc-provider's end_session takes GET only here (its POST needs SameSite=None cookies, i.e. TLS),
// so every POST on that path is Keycloak's back-channel logout, done with the provider's own models.

async function keycloakLogout(req, res) {
  const form = await readForm(req);
  let clientId = form.get('client_id');
  let secret = form.get('client_secret');
  const authorization = req.headers.authorization || '';
  if (authorization.toLowerCase().startsWith('basic ')) {
    const decoded = Buffer.from(authorization.slice(6), 'base64').toString();
    const colon = decoded.indexOf(':');
    clientId = decodeURIComponent(decoded.slice(0, colon));
    secret = decodeURIComponent(decoded.slice(colon + 1));
  }
  const client = clientId ? await provider.Client.find(clientId) : undefined;
  if (!client || (client.clientAuthMethod !== 'none' && !(secret && await client.compareClientSecret(secret)))) {
    send(res, 401, 'application/json', JSON.stringify({
      error: 'unauthorized_client', error_description: 'Invalid client or Invalid client credentials',
    }));
    return;
  }
  const refreshToken = await provider.RefreshToken.find(form.get('refresh_token') || '');
  if (!refreshToken || refreshToken.clientId !== client.clientId || refreshToken.consumed) {
    send(res, 400, 'application/json', JSON.stringify({ error: 'invalid_grant', error_description: 'Invalid refresh token' }));
    return;
  }
  // Keycloak ends the user session: every client's tokens in it, and the browser's SSO.
  const session = refreshToken.sessionUid ? await provider.Session.findByUid(refreshToken.sessionUid) : undefined;
  const grantIds = new Set([refreshToken.grantId]);
  for (const { grantId } of Object.values(session?.authorizations || {})) if (grantId) grantIds.add(grantId);
  for (const grantId of grantIds) {
    await Promise.all([
      provider.AccessToken.revokeByGrantId(grantId),
      provider.RefreshToken.revokeByGrantId(grantId),
      provider.AuthorizationCode.revokeByGrantId(grantId),
      provider.Grant.find(grantId).then((grant) => grant?.destroy()),
    ]);
  }
  await session?.destroy();
  res.writeHead(204, { 'Cache-Control': 'no-store' });
  res.end();
}

// --- HTTP: the realm prefix, the sign-in page, the rest to oidc-provider -----------------------

const callback = provider.callback();

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(res, status, type, body) {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
  res.end(body);
}

async function interaction(req, res, path) {
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch {
    send(res, 400, 'text/html; charset=utf-8', page('Error', `<h1 id="kc-page-title">We are sorry...</h1>
<p id="kc-error-message">Your login attempt timed out. Login will start from the beginning.</p>`));
    return;
  }
  if (details.prompt.name === 'consent') {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
    const { missingOIDCScope, missingOIDCClaims } = details.prompt.details;
    if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
    if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    return;
  }
  if (req.method === 'GET') {
    send(res, 200, 'text/html; charset=utf-8', loginPage(path, { username: details.params.login_hint }));
    return;
  }
  if (req.method !== 'POST') {
    send(res, 405, 'text/plain', 'method not allowed');
    return;
  }
  const form = await readForm(req);
  const username = form.get('username') || '';
  const account = accountsByLogin.get(username.toLowerCase());
  if (!account || account.password !== (form.get('password') || '')) {
    send(res, 200, 'text/html; charset=utf-8', loginPage(path, { username, error: 'Invalid username or password.' }));
    return;
  }
  await provider.interactionFinished(req, res, { login: { accountId: account.sub } }, { mergeWithLastSubmission: false });
}

const server = createServer((req, res) => {
  const path = req.url.split('?')[0];
  if (path === prefix || path === `${prefix}/`) {
    send(res, 200, 'application/json', JSON.stringify({
      realm,
      public_key: realmPublicKey,
      'token-service': `${issuer}/protocol/openid-connect`,
      'account-service': `${issuer}/account`,
      'tokens-not-before': 0,
    }));
    return;
  }
  const own = path.startsWith(loginPath) ? interaction
    : path === `${prefix}${logoutPath}` && req.method === 'POST' ? keycloakLogout : undefined;
  if (own) {
    own(req, res, path).catch((err) => {
      process.stderr.write(`${path}: ${err.stack || err}\n`);
      if (!res.headersSent) send(res, 500, 'text/plain', 'internal error');
      else res.end();
    });
    return;
  }
  if (!path.startsWith(`${prefix}/`)) {
    send(res, 404, 'application/json', JSON.stringify({ error: 'Realm does not exist' }));
    return;
  }
  // Mounted under the realm path as oidc-provider's docs show for frameworks without a mount helper.
  req.originalUrl = req.url;
  req.url = req.url.slice(prefix.length);
  callback(req, res);
});

provider.on('server_error', (ctx, err) => process.stderr.write(`server_error: ${err.stack || err}\n`));

function stop() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

// oidc-provider checks static clients' metadata on first use: check them now, before READY.
for (const { client_id: clientId } of clients) {
  if (!await provider.Client.find(clientId)) throw new Error(`client ${clientId} could not be loaded`);
}

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`READY ${issuer}\n`);
});
