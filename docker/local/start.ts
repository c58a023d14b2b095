/**
 * `npm start`: the whole system on this machine. The broker is already up (see package.json);
 * this starts the four services as separate processes, prints where to connect, and stops
 * them all on Ctrl-C.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { LocalStack, ROOT } from './stack';

async function main() {
  const env: Record<string, string> = { NODE_ENV: process.env.NODE_ENV ?? 'development' };
  // Development secrets are made per run unless given; production has no defaults at all.
  const generated: string[] = [];
  for (const name of ['ADMIN_TOKEN', 'JWT_SECRET']) {
    if (!process.env[name]) {
      env[name] = randomBytes(24).toString('base64url');
      generated.push(name);
    }
  }
  const gatewayPort = Number(process.env.GATEWAY_PORT ?? 3000);
  const stack = new LocalStack({
    env,
    basePort: gatewayPort + 1,
    logDir: join(ROOT, '.local', 'logs', 'start'),
    echo: process.env.START_ECHO_LOGS === '1',
  });
  // The gateway keeps the documented port; the others take the next ones.
  stack.get('gateway').port = gatewayPort;
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping the services ...');
    await stack.stop();
    console.log('stopped (the Kafka broker keeps running; `npm run kafka:stop` stops it)');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());

  console.log('starting gateway, sequencer, storage and delivery ...');
  await stack.start();
  const adminToken = env.ADMIN_TOKEN ?? process.env.ADMIN_TOKEN;
  console.log(`
  WebSocket   ws://127.0.0.1:${gatewayPort}/ws?token=<user JWT>&deviceId=<device>
  Admin API   http://127.0.0.1:${gatewayPort}/admin   (Authorization: Bearer <ADMIN_TOKEN>)
  Admin token ${generated.includes('ADMIN_TOKEN') ? adminToken + '   (development only, new each run)' : '(from ADMIN_TOKEN)'}
  Health      ${stack.instances.map((i) => `${i.name}:${i.port}`).join('  ')}
  Logs        ${join(ROOT, '.local', 'logs', 'start')}

  Try it:  curl -s -XPOST -H "Authorization: Bearer ${adminToken}" -H 'Content-Type: application/json' \\
             -d '{"id":"alice"}' http://127.0.0.1:${gatewayPort}/admin/users
  Ctrl-C stops everything.`);
  for (const instance of stack.instances) {
    instance.process?.on('exit', (code) => {
      if (!stopping) console.error(`${instance.name}#${instance.index} exited (${code}); see the logs`);
    });
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
