/** The gateway's commands: `start`, `rotate-master-key`, `stripe-app-manifest`. */
import { join } from 'node:path';
import { ConfigError, loadConfig, startGateway } from '../gateway/index.js';
import { openDatabase } from '../store/db.js';
import { AdminAuth } from '../gateway/admin.js';
import { ensureDashboardBuilt } from '../gateway/dashboard.js';
import { keyFile, loadMasterKeys, MasterKey, Vault, writeKeyFile } from '../gateway/vault.js';

export async function runGateway(o: { port: number; host: string; dataDir: string; sandboxPort: number }): Promise<void> {
  let gateway;
  try {
    const config = loadConfig(o);
    await ensureDashboardBuilt((line) => console.log(line));
    config.sandbox = { port: o.sandboxPort };
    gateway = await startGateway(config);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(2);
    }
    throw e;
  }
  console.log(`PayBridge gateway listening on ${gateway.url} (storage: ${gateway.storage})`);
  console.log(`Dashboard: ${gateway.services.rt.publicUrl}/`);
  if (gateway.adminPassword) console.log(`Dashboard admin password (shown once; reset with \`paybridge reset-admin-password\`): ${gateway.adminPassword}`);
  console.log(gateway.sandbox ? `Stripe: embedded sandbox at ${gateway.sandbox.url}` : `Stripe: ${gateway.services.rt.api.base}`);
  if (gateway.bootstrap) {
    console.log(`First start: created the default app ${gateway.bootstrap.app_id}.`);
    console.log(`Its test API key (shown once; also in ${join(o.dataDir, 'bootstrap.json')}): ${gateway.bootstrap.test_key}`);
    console.log(`Its live API key (shown once, kept nowhere in clear; roll it in the dashboard if lost): ${gateway.bootstrap.live_key}`);
  }
  const stop = async () => {
    await gateway.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

export async function rotateMasterKey(o: { dataDir: string; newKey?: string }): Promise<void> {
  const config = loadConfig({ dataDir: o.dataDir });
  const keys = loadMasterKeys({ current: config.masterKey, previous: config.masterKeyPrevious }, o.dataDir);
  let next: MasterKey;
  if (config.masterKey) {
    if (!o.newKey) {
      throw new Error('PAYBRIDGE_MASTER_KEY is set: pass --new-key <base64>, then run the gateways with PAYBRIDGE_MASTER_KEY=<new key> and PAYBRIDGE_MASTER_KEY_PREVIOUS=<old key> until this finishes.');
    }
    next = MasterKey.parse(o.newKey);
  } else {
    next = o.newKey ? MasterKey.parse(o.newKey) : MasterKey.generate();
    // Running gateways re-read the key file when they meet the new key id, so they keep working throughout.
    writeKeyFile(o.dataDir, [next, keys.current, ...keys.previous]);
  }
  const database = await openDatabase({ url: config.databaseUrl, dataDir: join(o.dataDir, 'db') });
  try {
    const vault = new Vault(database.db, { ...keys, previous: [keys.current, ...keys.previous], current: next });
    const count = await vault.rotate(next);
    console.log(`Re-encrypted ${count} secrets under master key ${next.id}${config.masterKey ? '' : ` (key file ${keyFile(o.dataDir)})`}.`);
    if (!config.masterKey) {
      // An old key that opens nothing is only a liability: the key file keeps the keys some secret still uses.
      const used = new Set(await vault.keysInUse());
      const kept = [next, ...[keys.current, ...keys.previous].filter((k) => k.id !== next.id && used.has(k.id))];
      writeKeyFile(o.dataDir, kept);
      const retired = keys.previous.length + 1 - (kept.length - 1);
      if (retired > 0) console.log(`Retired ${retired} old master key${retired === 1 ? '' : 's'} that no secret uses any more.`);
    }
  } finally {
    await database.close();
  }
}

export function stripeAppManifest(o: { permissions: string; id: string; name: string; publicUrl: string }) {
  const permissions = o.permissions.split(',').map((p) => p.trim()).filter(Boolean);
  const bad = permissions.find((p) => !/^[a-z_]+_(read|write)$/.test(p));
  if (bad) throw new Error(`Invalid permission '${bad}': Stripe App permissions look like customer_read or payment_intent_write.`);
  return {
    id: o.id,
    version: '0.0.1',
    name: o.name,
    icon: '',
    permissions: permissions.map((permission) => ({ permission, purpose: `PayBridge uses ${permission.replace(/_/g, ' ')} on behalf of your account` })),
    stripe_api_access_type: 'oauth',
    distribution_type: 'public',
    allowed_redirect_uris: [`${o.publicUrl.replace(/\/$/, '')}/oauth/callback`],
  };
}

/** A new dashboard password, printed once; every signed-in dashboard session ends. */
export async function resetAdminPassword(o: { dataDir: string; password?: string }): Promise<void> {
  const config = loadConfig({ dataDir: o.dataDir });
  if (o.password !== undefined && o.password.length < 12) throw new Error('The password must be at least 12 characters.');
  const database = await openDatabase({ url: config.databaseUrl, dataDir: join(o.dataDir, 'db') });
  try {
    const password = await new AdminAuth(database.db, () => 'http://127.0.0.1').resetPassword(o.password);
    console.log(o.password ? 'Dashboard admin password changed.' : `New dashboard admin password (shown once): ${password}`);
  } finally {
    await database.close();
  }
}
