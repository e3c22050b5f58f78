import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ShellSession } from '../../support/shell.js';
import { world, type World } from '../../support/world.js';

/** What a terminal shows for `raw`: lines after cursor moves (CR, ESC[nG) and erasures (ESC[J, ESC[K). */
function screenLines(raw: string): string[] {
  // The escape sequences are what readline writes; matching them is the point.
  /* eslint-disable no-control-regex */
  const lines: string[] = [''];
  let col = 0;
  for (const part of raw.split(/(\r|\n|\x1b\[\d*[GJK])/)) {
    const row = lines.length - 1;
    const esc = /^\x1b\[(\d*)([GJK])$/.exec(part);
    /* eslint-enable no-control-regex */
    if (part === '\n') {
      lines.push('');
      col = 0;
    } else if (part === '\r') col = 0;
    else if (esc?.[2] === 'G') col = Number(esc[1] || 1) - 1;
    else if (esc) lines[row] = esc[1] === '2' ? '' : lines[row]!.slice(0, col);
    else {
      const text = stripVTControlCharacters(part);
      lines[row] = lines[row]!.slice(0, col).padEnd(col) + text + lines[row]!.slice(col + text.length);
      col += text.length;
    }
  }
  return lines;
}

describe('the shell at a terminal', () => {
  let w: World;
  beforeAll(async () => {
    w = await world({ provider: 'vendor', servers: [{ name: 'lab' }, { name: 'gh', grant: true }] });
  });
  afterAll(async () => {
    await w?.stop();
  });

  it('a result that arrives while the person is typing is printed above the prompt, which is drawn again with their text', async () => {
    const tia = new ShellSession(w.app.chat, 'tia', { tty: true, prompt: 'tia> ' });
    w.sessions.set('tia', tia);
    const marker = path.join(mkdtempSync(path.join(os.tmpdir(), 'shell-')), 'slow');
    tia.type(`/onbehalf run lab.slow {"ms":400,"marker":"${marker}"}\r`);
    await vi.waitFor(() => expect(readFileSync(marker, 'utf8')).toMatch(/started/), { timeout: 15_000 });
    tia.type('who');
    await tia.waitFor(/waited 400 ms[^]*tia> who/);
    const shown = screenLines(tia.output);
    // The result stands on lines of its own, and the prompt with the half-typed word is drawn below it.
    expect(shown.slice(-4)).toEqual([
      'onbehalf (only you): Running `lab.slow` as you…',
      'onbehalf: `lab.slow`:',
      '  waited 400 ms',
      'tia> who',
    ]);
    tia.type('ami\r');
    await tia.waitFor(/You are tia \(member\)/);
    await tia.close();
  });

  it('what the shell shows never asks to press a button: a connect prompt is a link, help names commands', async () => {
    const pia = w.as('pia');
    const from = pia.output.length;
    await pia.send('/onbehalf run gh.whoami {}');
    await pia.waitFor(/→ Connect vendor: http/, from);
    const prompt = pia.output.slice(from);
    expect(prompt).toMatch(/Connect it with the link below/);
    expect(prompt + (await pia.send('help'))).not.toMatch(/button|click|press/i);
  });
});
