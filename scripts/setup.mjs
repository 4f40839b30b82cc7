// Prepares a fresh checkout before `npm start`, `npm test`, `npm run bench` and `npm run demo`:
//   1. installs npm dependencies when node_modules is missing or older than package-lock.json;
//   2. on Linux without a usable Vulkan driver, installs the software driver (needs root;
//      otherwise prints exactly what to run). Machines with a GPU driver skip this.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const lock = join(root, 'package-lock.json');
const marker = join(root, 'node_modules/.package-lock.json');
if (!existsSync(marker) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(marker).mtimeMs + 1000)) {
  console.log('[setup] installing npm dependencies (npm ci)');
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function vulkanUsable() {
  const dirs = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];
  const icds = dirs.flatMap((d) => (existsSync(d) ? readdirSync(d) : []));
  if (
    !existsSync('/usr/lib/x86_64-linux-gnu/libvulkan.so.1') &&
    !existsSync('/usr/lib/aarch64-linux-gnu/libvulkan.so.1') &&
    !existsSync('/usr/lib64/libvulkan.so.1') &&
    !existsSync('/usr/lib/libvulkan.so.1')
  )
    return false;
  if (icds.some((f) => !f.startsWith('lvp_icd'))) return true; // a hardware driver
  if (!icds.length) return false;
  try {
    // Debian's Mesa 22 lavapipe is too old for Dawn; 23 or later works.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's format syntax.
    const v = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'mesa-vulkan-drivers'], { encoding: 'utf8' });
    return parseInt(v, 10) >= 23;
  } catch {
    return true; // not a dpkg system: trust what is installed
  }
}

if (process.platform === 'linux' && !process.env.VOXGRAD_SKIP_DRIVER_SETUP && !vulkanUsable()) {
  console.log('[setup] no usable Vulkan driver found: installing the software driver (lavapipe)');
  const r = spawnSync('bash', [join(root, 'scripts/install-software-vulkan.sh')], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('[setup] could not install a Vulkan driver; voxgrad needs one to find a WebGPU adapter (see above).');
    process.exit(1);
  }
}

// `npm test` also runs the browser demo in Debian's Chromium: install it when possible (root,
// Debian); otherwise the browser test is reported as skipped.
if (
  process.argv.includes('--browser') &&
  process.platform === 'linux' &&
  !existsSync('/usr/bin/chromium') &&
  !process.env.CHROMIUM_PATH
) {
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    console.log('[setup] installing Chromium for the browser demo test');
    spawnSync('bash', [join(root, 'scripts/install-chromium.sh')], { stdio: 'inherit' });
  } else {
    console.log(
      '[setup] no Chromium: the browser demo test will be skipped (as root: bash scripts/install-chromium.sh)',
    );
  }
}
