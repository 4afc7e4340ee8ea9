// Injected before the page's own scripts (Playwright's add_init_script), after a line that
// sets window.__stubConfig = {initData, user, theme}. Records what the page says, plays and
// sends, with the page's clock (Playwright's fake clock when installed).
(() => {
  const config = window.__stubConfig;
  const recorded = {
    speech: [], tones: [], haptics: [], fetches: [], wakeLocks: [], ready: 0, expanded: 0,
    primed: 0,
  };
  window.__recorded = recorded;

  window.Telegram = {
    WebApp: {
      initData: config.initData,
      initDataUnsafe: { user: config.user },
      themeParams: config.theme || {},
      colorScheme: "dark",
      ready() { recorded.ready += 1; },
      onEvent() {},
      expand() { recorded.expanded += 1; },
      HapticFeedback: {
        notificationOccurred(kind) { recorded.haptics.push({ kind, at: Date.now() }); },
        impactOccurred(kind) { recorded.haptics.push({ kind: `impact:${kind}`, at: Date.now() }); },
      },
    },
  };

  class Utterance {
    constructor(text) { this.text = text; this.lang = ""; this.voice = null; this.volume = 1; }
  }
  window.SpeechSynthesisUtterance = Utterance;
  const synth = {
    speak(utterance) {
      if (!utterance.text && utterance.volume === 0) {
        recorded.primed += 1; // the silent utterance that unlocks speech on iOS
        return;
      }
      recorded.speech.push({ text: utterance.text, lang: utterance.lang, at: Date.now() });
    },
    cancel() {},
    getVoices() { return [{ lang: "en-GB", name: "Test voice" }]; },
    addEventListener() {},
  };
  Object.defineProperty(window, "speechSynthesis", { value: synth, configurable: true });

  // An AudioContext whose clock is the page's Date.now(): a tone started at context time `t`
  // is recorded at the page instant it would sound.
  class Param {
    constructor() { this.value = 0; }
    setValueAtTime(value) { this.value = value; }
    exponentialRampToValueAtTime() {}
    linearRampToValueAtTime() {}
  }
  class Node {
    connect(target) { return target; }
    disconnect() {}
  }
  class Context {
    constructor() { this.state = "running"; this.destination = new Node(); this.origin = Date.now(); }
    get currentTime() { return (Date.now() - this.origin) / 1000; }
    resume() { this.state = "running"; return Promise.resolve(); }
    createGain() { const gain = new Node(); gain.gain = new Param(); return gain; }
    createOscillator() {
      const context = this;
      const oscillator = new Node();
      oscillator.type = "sine";
      oscillator.frequency = new Param();
      oscillator.start = (when) => {
        recorded.tones.push({
          frequency: oscillator.frequency.value,
          at: context.origin + (when || 0) * 1000,
        });
      };
      oscillator.stop = () => {};
      return oscillator;
    }
  }
  window.AudioContext = Context;
  window.webkitAudioContext = Context;

  // Screen Wake Lock: a sentinel is released when the page is hidden, as the spec says.
  const sentinels = [];
  Object.defineProperty(navigator, "wakeLock", {
    configurable: true,
    value: {
      async request(type) {
        recorded.wakeLocks.push({ type, at: Date.now() });
        const sentinel = { released: false, async release() { this.released = true; } };
        sentinels.push(sentinel);
        return sentinel;
      },
    },
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") for (const s of sentinels) s.released = true;
  });

  const realFetch = window.fetch.bind(window);
  window.fetch = async (input, options) => {
    const entry = {
      url: String(input),
      method: (options && options.method) || "GET",
      body: options && options.body ? JSON.parse(options.body) : null,
      keepalive: !!(options && options.keepalive),
      sent: Date.now(),
    };
    recorded.fetches.push(entry);
    const response = await realFetch(input, options);
    entry.status = response.status;
    entry.received = Date.now();
    try {
      entry.reply = await response.clone().json();
    } catch (_) {
      entry.reply = null;
    }
    return response;
  };
})();
