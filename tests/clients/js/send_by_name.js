// An application written with the JavaScript client celery-node: it sends tasks by name to
// Celery's default queue (it names none) and prints what came back, one JSON list on stdout.
// Usage: node send_by_name.js BROKER_URL BACKEND_URL < calls.json
//   calls.json: [{"name": "tasks.predict_failure", "args": [...], "kwargs": {...}}, ...]
const celery = require("celery-node");

const [broker, backend] = process.argv.slice(2);
const client = celery.createClient(broker, backend); // queue "celery", as any client's default

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const calls = JSON.parse(Buffer.concat(chunks).toString());
  const outcomes = [];
  for (const { name, args, kwargs } of calls) {
    const started = Date.now();
    const result = client.createTask(name).applyAsync(args, kwargs || {});
    try {
      const value = await result.get(30000, 50);
      outcomes.push({ ok: true, result: value, ms: Date.now() - started });
    } catch (error) {
      outcomes.push({ ok: false, status: error.message, exc_type: error.exc_type, exc_message: error.exc_message });
    }
  }
  console.log(JSON.stringify(outcomes));
  client.disconnect();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
