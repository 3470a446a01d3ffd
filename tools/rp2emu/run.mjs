// run.mjs: boots a MicroPython RP2040 firmware image in the rp2040js emulator and runs Python
// scripts on it through the raw REPL over the emulated USB CDC port.
//
//   node tools/rp2emu/run.mjs --firmware build/rp2/firmware.bin --bootrom BOOTROM.ts
//        [--max-seconds S] [--pc-samples FILE --pc-every N] script.py [script.py ...]
//
// --pc-samples: every N instructions while a script runs, the PC and LR are counted; FILE gets
// "pc lr count" lines (hex), for a profile by symbol (tools/rp2_profile.py).
//
// Each script's output goes to stdout between "=== run NAME" and "=== end NAME rc=R" lines
// (R is 0 when it ended without an exception, 1 when it raised: its traceback is printed).
// Exit status: 0 all scripts ran clean, 1 a script raised, 2 the firmware never reached the
// REPL or a script ran past --max-seconds of emulated time (a hang), 3 bad arguments.
//
// Time: the emulator's clock advances 8 ns per executed Cortex-M0+ cycle (a fixed 125 MHz, the
// RP2040 default clk_sys of pico-sdk), so ticks_us() on the firmware counts executed cycles / 125
// and the same binary gives the same figures on every run. Flash has no wait states here.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { ConsoleLogger, LogLevel, RP2040, USBCDC } from 'rp2040js';

const CYCLE_NANOS = 8;          // 125 MHz
const FIFO_ROOM = 512;          // rp2040js USBCDC drops bytes pushed past its 512-entry FIFO

function usage(msg) {
  process.stderr.write(`run.mjs: ${msg}\n`);
  process.exit(3);
}

function parseArgs(argv) {
  const o = { scripts: [], maxSeconds: 60, pcEvery: 0, pcFile: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--firmware') o.firmware = argv[++i];
    else if (a === '--bootrom') o.bootrom = argv[++i];
    else if (a === '--max-seconds') o.maxSeconds = Number(argv[++i]);
    else if (a === '--pc-samples') o.pcFile = argv[++i];
    else if (a === '--pc-every') o.pcEvery = Number(argv[++i]);
    else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else o.scripts.push(a);
  }
  if (!o.firmware || !o.bootrom) usage('--firmware and --bootrom are required');
  return o;
}

// The boot ROM ships as a TypeScript source holding one Uint32Array literal: read its numbers.
function loadBootrom(path) {
  const text = readFileSync(path, 'utf8');
  const start = text.indexOf('[', text.indexOf('Uint32Array'));
  const end = text.indexOf(']', start);
  const words = text.slice(start + 1, end).match(/0x[0-9a-fA-F]+/g) || [];
  if (words.length < 1024) usage(`${path}: no boot ROM image found`);
  return Uint32Array.from(words.map((w) => parseInt(w, 16)));
}

const opts = parseArgs(process.argv.slice(2));
const mcu = new RP2040();
mcu.logger = new ConsoleLogger(LogLevel.Error);   // not the per-instruction SEV and USB transfer notes
mcu.loadBootrom(loadBootrom(opts.bootrom));
const image = readFileSync(opts.firmware);
if (image.length > mcu.flash.length) usage('firmware larger than the emulated flash');
mcu.flash.set(image, 0);
mcu.core.PC = 0x10000000;       // boot stage 2 at the start of flash, as the boot ROM would jump

const cdc = new USBCDC(mcu.usbCtrl);
let received = '';              // device output not yet consumed by the protocol below
let pending = [];               // bytes waiting for room in the emulator's FIFO
let connected = false;
const decoder = new TextDecoder();
cdc.onDeviceConnected = () => { connected = true; };
cdc.onSerialData = (buf) => { received += decoder.decode(buf, { stream: true }); };

// rp2040js answers every OUT transfer the firmware arms at once, with zero bytes when it has
// nothing to send; tinyusb then re-arms and the next interrupt follows immediately, a storm that
// takes most of the CPU (seen as hw_handle_buff_status/tud_task in PC samples). A real host sends
// an OUT packet only when it has data: so do we, holding the armed transfer until bytes are queued.
const answerRead = cdc.usb.onEndpointRead;
let heldRead = null;
cdc.usb.onEndpointRead = (endpoint, size) => {
  if (endpoint === cdc.outEndpoint && cdc.txFIFO.itemCount === 0 && pending.length === 0) {
    heldRead = [endpoint, size];
    return;
  }
  answerRead(endpoint, size);
};

function feed() {
  while (pending.length && cdc.txFIFO.itemCount < FIFO_ROOM) {
    cdc.sendSerialByte(pending.shift());
  }
  if (heldRead && cdc.txFIFO.itemCount) {
    const [endpoint, size] = heldRead;
    heldRead = null;
    answerRead(endpoint, size);
  }
}

function send(bytes) {
  for (const b of bytes) pending.push(b);
}

let pcCounts = opts.pcEvery > 0 ? new Map() : null;
let sampling = false;

// Runs the core until `done()` holds or `limitNanos` of emulated time passed; true if done.
function runUntil(done, limitNanos) {
  const { core, clock } = { core: mcu.core, clock: mcu.clock };
  const stop = clock.nanos + limitNanos;
  let n = 0;
  let sampleIn = opts.pcEvery;
  for (;;) {
    if (core.waiting) {
      const d = clock.nanosToNextAlarm;
      clock.tick(d > 0 ? d : CYCLE_NANOS);
    } else {
      if (sampling && --sampleIn <= 0) {
        sampleIn = opts.pcEvery;
        const key = `${core.PC.toString(16)} ${core.LR.toString(16)}`;
        pcCounts.set(key, (pcCounts.get(key) || 0) + 1);
      }
      const cycles = core.executeInstruction();
      clock.tick(cycles * CYCLE_NANOS);
    }
    if (++n >= 4096) {
      n = 0;
      feed();
      if (done()) return true;
      if (clock.nanos >= stop) return false;
    }
  }
}

function take(marker) {
  const i = received.indexOf(marker);
  if (i < 0) return null;
  const before = received.slice(0, i);
  received = received.slice(i + marker.length);
  return before;
}

const SECOND = 1e9;
let status = 0;
const t0 = Date.now();

// Boot: wait for USB enumeration and the friendly REPL banner, then enter the raw REPL.
if (!runUntil(() => connected, 10 * SECOND)) {
  process.stderr.write('run.mjs: the firmware never connected its USB CDC port\n');
  process.exit(2);
}
send([13]);
if (!runUntil(() => received.includes('>>> '), 10 * SECOND)) {
  process.stderr.write(`run.mjs: no REPL prompt; got ${JSON.stringify(received.slice(-200))}\n`);
  process.exit(2);
}
received = '';
send([3, 3, 1]);                // Ctrl-C twice (stop anything), Ctrl-A (raw REPL)
if (!runUntil(() => received.includes('raw REPL; CTRL-B to exit\r\n>'), 10 * SECOND)) {
  process.stderr.write(`run.mjs: raw REPL refused; got ${JSON.stringify(received.slice(-200))}\n`);
  process.exit(2);
}
received = '';
const bootSeconds = mcu.clock.nanos / SECOND;
process.stdout.write(`=== booted in ${bootSeconds.toFixed(3)} s emulated, ${((Date.now() - t0) / 1000).toFixed(1)} s wall\n`);

for (const path of opts.scripts) {
  const name = basename(path);
  const code = readFileSync(path);
  process.stdout.write(`=== run ${name}\n`);
  const w0 = Date.now();
  const e0 = mcu.clock.nanos;
  send(code);
  send([4]);                     // Ctrl-D: compile and run what was sent
  sampling = pcCounts !== null;
  // Raw REPL reply: "OK", stdout, \x04, exception text, \x04, then the ">" prompt.
  let out = '';
  let err = '';
  const ok = runUntil(() => {
    if (received.startsWith('OK')) {
      const j = received.indexOf('\x04');
      if (j >= 0) {
        const k = received.indexOf('\x04', j + 1);
        if (k >= 0 && received.length > k + 1 && received[k + 1] === '>') return true;
      }
      // stream stdout as it comes, keeping any partial \x04 framing for the check above
      if (j < 0 && received.length > 2) {
        process.stdout.write(received.slice(2));
        received = 'OK';
      }
    } else if (received.length && !'OK'.startsWith(received.slice(0, 2))) {
      return true;               // not a raw REPL reply: reported below
    }
    return false;
  }, opts.maxSeconds * SECOND);
  sampling = false;
  const secs = (mcu.clock.nanos - e0) / SECOND;
  if (!ok) {
    process.stdout.write(received.startsWith('OK') ? received.slice(2) : received);
    process.stdout.write(`\n=== end ${name} rc=2 (no end after ${secs.toFixed(1)} s emulated: hang)\n`);
    status = 2;
    break;
  }
  if (!received.startsWith('OK')) {
    process.stdout.write(`raw REPL error: ${JSON.stringify(received.slice(0, 200))}\n=== end ${name} rc=2\n`);
    status = 2;
    break;
  }
  const j = received.indexOf('\x04');
  const k = received.indexOf('\x04', j + 1);
  out = received.slice(2, j);
  err = received.slice(j + 1, k);
  received = received.slice(k + 2);
  process.stdout.write(out);
  if (err) process.stdout.write(err);
  const rc = err ? 1 : 0;
  if (rc && status === 0) status = 1;
  process.stdout.write(`=== end ${name} rc=${rc} (${secs.toFixed(3)} s emulated, ${((Date.now() - w0) / 1000).toFixed(1)} s wall)\n`);
}

if (pcCounts && opts.pcFile) {
  const lines = [...pcCounts.entries()].sort((a, b) => b[1] - a[1]).map(([k, c]) => `${k} ${c}`);
  writeFileSync(opts.pcFile, lines.join('\n') + '\n');
}
process.exit(status);
