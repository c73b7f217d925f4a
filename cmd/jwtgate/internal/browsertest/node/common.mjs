// Shared by admin.mjs and pages.mjs, the scripts that drive the pages of
// "jwtgate serve": their arguments, their report, the axe-core scan, the
// screenshots, and the run itself, from launching Chromium to printing
// the report on stdout.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { launchBrowser } from "./browser.mjs";

const require = createRequire(import.meta.url);
const AXE_SOURCE = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

// The viewports the scripts open: a desktop and a phone.
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

// text is the trimmed text of the first element sel finds in page.
export const text = async (page, sel) => ((await page.textContent(sel)) ?? "").trim();

// userinfo is the status of GET /userinfo with the page's cookies: 200
// while its session works, 401 once it is refused.
export const userinfo = (page) => page.evaluate(() => fetch("/userinfo", { cache: "no-store" }).then((r) => r.status));

// parseArgs reads "URL --name VALUE ..." for the options named in
// required (all of them needed) and --out and --shots (optional), and
// sets base, the origin of URL. A wrong command line exits with status 2
// and usageLine.
function parseArgs(script, usageLine, required, argv) {
  const usage = (msg) => {
    process.stderr.write(`${script}: ${msg}\nusage: node ${script} ${usageLine}\n`);
    process.exit(2);
  };
  const opts = { url: null, out: null, shots: null };
  for (const name of required) opts[name] = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith("--") && a.slice(2) in opts) {
      opts[a.slice(2)] = argv[++i] ?? usage(`${a} needs a value`);
    } else if (opts.url === null) {
      opts.url = a;
    } else {
      usage(`unexpected argument ${a}`);
    }
  }
  if (opts.url === null) usage("no URL");
  if (required.some((name) => !opts[name])) {
    const names = required.map((name) => `--${name}`);
    usage(`${names.slice(0, -1).join(", ")} and ${names.at(-1)} are required`);
  }
  opts.base = new URL(opts.url).origin;
  return opts;
}

// run is the whole of a script: it parses the command line (see
// parseArgs), makes the output directory (--out, or a new temporary
// one), launches Chromium and calls drive with
//
//   { opts, base, out, browser, result, expect, step, scan, shot }
//
// result is the report: the fields every script has, and those of
// fields. An error thrown by drive is reported in "problems", with a
// screenshot of every page left open. The report is printed on stdout
// as one JSON object; the script exits non-zero only when it cannot
// report.
export function run({ script, usage, required, fields }, drive) {
  main().catch((e) => {
    process.stderr.write(`${script}: ${e && e.stack ? e.stack : e}\n`);
    process.exit(1);
  });

  async function main() {
    const opts = parseArgs(script, usage, required, process.argv.slice(2));
    const { base } = opts;
    const out = opts.out ?? fs.mkdtempSync(path.join(os.tmpdir(), `jwtgate-${path.basename(script, ".mjs")}-`));
    fs.mkdirSync(out, { recursive: true });
    if (opts.shots) fs.mkdirSync(opts.shots, { recursive: true });

    const result = {
      browserVersion: null,
      url: base,
      steps: [],
      problems: [],
      axe: [],
      headers: {},
      screenshots: [],
      csrfRefusals: [],
      pageErrors: [],
      console: [],
      ...fields,
    };
    // expect records msg as a problem of the current step unless ok.
    const expect = (ok, msg) => {
      if (!ok) result.problems.push(`${result.steps.at(-1) ?? "start"}: ${msg}`);
      return ok;
    };
    // step starts the step name; JWTGATE_PAGES_TRACE traces it on stderr.
    const step = (name) => {
      result.steps.push(name);
      if (process.env.JWTGATE_PAGES_TRACE) process.stderr.write(`${script}: ${name}\n`);
    };

    // scan runs axe-core in the page and records its findings.
    async function scan(page, name) {
      await page.evaluate(AXE_SOURCE);
      const violations = await page.evaluate(async () => {
        const r = await window.axe.run(document, {
          runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] },
        });
        return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")) }));
      });
      result.axe.push({ page: name, url: page.url(), violations });
    }

    // shot saves a screenshot in out, and in --shots when readme is set.
    async function shot(page, name, readme) {
      const p = path.join(out, `${name}.png`);
      await page.screenshot({ path: p, fullPage: true });
      result.screenshots.push(p);
      if (readme && opts.shots) {
        const q = path.join(opts.shots, `${name}.png`);
        fs.copyFileSync(p, q);
        result.screenshots.push(q);
      }
    }

    const browser = await launchBrowser();
    result.browserVersion = browser.version();
    try {
      await drive({ opts, base, out, browser, result, expect, step, scan, shot });
    } catch (e) {
      result.problems.push(`${result.steps.at(-1) ?? "start"}: ${e && e.stack ? e.stack : e}`);
      let k = 0;
      for (const ctx of browser.contexts()) {
        for (const p of ctx.pages()) {
          try {
            const f = path.join(out, `failure-${k++}.png`);
            await p.screenshot({ path: f, fullPage: true });
            process.stderr.write(`${script}: failure screenshot: ${f} (${p.url()})\n`);
          } catch {
            // Only a help.
          }
        }
      }
    } finally {
      await browser.close();
    }
    process.stdout.write(JSON.stringify(result, null, 2) + "\n");
  }
}
