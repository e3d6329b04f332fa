// Checks Kubernetes manifests against the Kubernetes object schemas, offline:
// kubernetes-models validates types and formats (quantities, enums), and the
// TypeScript compiler, given each object as a literal of the kind's type,
// rejects every field the kind does not have (a typo Kubernetes would drop
// or refuse). Prints "ok FILE KIND NAME" per object; exits 1 naming the file
// and field on the first problem of each object.
//
//   node check_manifests.mjs FILE.yaml...
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const here = path.dirname(fileURLToPath(import.meta.url));

// kind -> [apiVersion, module, class, interface]
const KINDS = {
  ConfigMap: ['v1', 'kubernetes-models/v1/ConfigMap', 'ConfigMap', 'IConfigMap'],
  Secret: ['v1', 'kubernetes-models/v1/Secret', 'Secret', 'ISecret'],
  Job: ['batch/v1', 'kubernetes-models/batch/v1/Job', 'Job', 'IJob'],
  CronJob: ['batch/v1', 'kubernetes-models/batch/v1/CronJob', 'CronJob', 'ICronJob'],
};

const problems = [];
const objects = [];
for (const file of process.argv.slice(2)) {
  const docs = YAML.parseAllDocuments(fs.readFileSync(file, 'utf8'));
  docs.forEach((doc, index) => {
    if (doc.errors.length > 0) {
      problems.push(`${file}: not YAML: ${doc.errors[0].message}`);
      return;
    }
    const object = doc.toJS();
    if (object === null) return;
    const known = KINDS[object.kind];
    if (!known) {
      problems.push(`${file}: kind ${JSON.stringify(object.kind)} is not one the samples use`);
      return;
    }
    if (object.apiVersion !== known[0]) {
      problems.push(`${file}: ${object.kind} has apiVersion ${object.apiVersion}, expected ${known[0]}`);
      return;
    }
    objects.push({ file, index, object, known });
  });
}

for (const { file, object, known } of objects) {
  const module = await import(known[1]);
  try {
    new module[known[2]](object).validate();
  } catch (error) {
    problems.push(`${file}: ${object.kind} ${object.metadata?.name ?? object.metadata?.generateName}: ${error.message}`);
  }
}

// One TypeScript module per object, so an error's file names the manifest.
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rdnsctl-k8s-'));
try {
  fs.symlinkSync(path.join(here, 'node_modules'), path.join(work, 'node_modules'));
  const names = new Map();
  const files = objects.map(({ file, index, object, known }, n) => {
    const name = `object${n}.mts`;
    names.set(name, `${file} (document ${index + 1}, ${object.kind} ${object.metadata?.name ?? object.metadata?.generateName})`);
    fs.writeFileSync(path.join(work, name),
      `import type { ${known[3]} } from "${known[1]}";\n` +
      `export const object: ${known[3]} = ${JSON.stringify(object, null, 2)};\n`);
    return name;
  });
  fs.writeFileSync(path.join(work, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext',
                       types: [], skipLibCheck: true },
    files,
  }));
  if (files.length > 0) {
    try {
      execFileSync(process.execPath, [path.join(here, 'node_modules/typescript/bin/tsc'), '-p', '.'],
                   { cwd: work, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      for (const line of String(error.stdout).split('\n').filter((l) => /error TS/.test(l))) {
        const match = /^(object\d+\.mts)\((\d+),\d+\): error TS\d+: (.*)$/.exec(line);
        problems.push(match ? `${names.get(match[1])}: ${match[3]}` : line);
      }
      if (problems.length === 0) problems.push(`tsc failed: ${error.stderr || error.stdout}`);
    }
  }
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}

if (problems.length > 0) {
  for (const problem of problems) console.error(problem);
  process.exit(1);
}
for (const { file, object } of objects) console.log(`ok ${file} ${object.kind} ${object.metadata?.name ?? object.metadata?.generateName}`);
