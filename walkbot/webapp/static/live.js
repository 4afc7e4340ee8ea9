// walkbot's live-walk screen (a Telegram Mini App). Plain JS, no build step.
//
// The walk row on the server is the truth: this page reads the walk's timeline
// (GET /live/api/walk...), sends controls to the server and runs the cues on the phone.
// Time is always computed from the clock (Date.now() corrected by the server's skew), never by
// counting ticks: hidden pages have their timers throttled, a locked screen stops them.
// While the page is visible and the walk active it sends a heartbeat every 2 s, so the bot holds
// back its chat cues; hidden or closed, it says so at once and the chat cues take over.
// The API and the hand-over rule: docs/architecture.md ("The web layer and the live screen").
"use strict";

(() => {
  // --- settings of the page ------------------------------------------------------------------
  const HEARTBEAT_MS = 2000; // the contract: every 2 s while visible and active
  const SYNC_MS = 10000; // re-read the walk now and then (a Pause or Stop tapped in the chat)
  const END_POLL_MS = 2000; // after the last second, until the server has ended the walk too
  const WARNING_S = 10; // the 10-second warning...
  const WARNING_MIN_PHASE_S = 45; // ...only in phases this long (as the chat's heads-up)
  const HALFWAY_TOLERANCE = 0.1; // as walkbot/domain/walks.py
  const SWITCH_LATE_MS = 5000; // a switch cue later than this is not played (the screen shows it)
  const TICK_LATE_MS = 1000; // a warning or 3-2-1 tone later than this is pointless

  // walkbot's own 0-10 effort words (walkbot/domain/walks.py EFFORT_LABELS; a test compares).
  const EFFORT_LABELS = [
    "resting", "very easy", "very easy", "easy", "easy", "moderate",
    "moderate", "hard", "hard", "very hard", "maximal",
  ];

  // Tones, distinct by pitch and rhythm: [frequency Hz, start offset s, length s].
  const TONES = {
    switch: [[660, 0, 0.18], [990, 0.2, 0.3]], // rising pair: turn around now
    warning: [[440, 0, 0.15], [440, 0.25, 0.15]], // low double beep: 10 seconds to go
    count: [[880, 0, 0.1]], // short pip: 3, 2, 1
    finish: [[660, 0, 0.15], [880, 0.18, 0.15], [1320, 0.36, 0.4]], // rising three: done
  };

  // --- Telegram --------------------------------------------------------------------------------
  const tg = (window.Telegram && window.Telegram.WebApp) || null;
  const initData = (tg && tg.initData) || "";

  function applyTheme() {
    const theme = (tg && tg.themeParams) || {};
    const root = document.documentElement.style;
    const pairs = [
      ["--bg", theme.bg_color],
      ["--text", theme.text_color],
      ["--hint", theme.hint_color],
      ["--card", theme.secondary_bg_color],
      ["--button", theme.button_color],
      ["--button-text", theme.button_text_color],
    ];
    for (const [name, value] of pairs) {
      if (typeof value === "string" && /^#[0-9a-fA-F]{3,8}$/.test(value)) {
        root.setProperty(name, value);
      }
    }
  }

  function haptic(kind) {
    try {
      if (tg && tg.HapticFeedback) tg.HapticFeedback.notificationOccurred(kind);
    } catch (_) {
      /* an old client: the tone and the big text carry it */
    }
  }

  // --- elements ------------------------------------------------------------------------------
  const $ = (id) => document.getElementById(id);
  const screens = ["loading", "message-screen", "ready", "live", "rating"];
  function show(id) {
    for (const name of screens) $(name).hidden = name !== id;
  }
  function notice(text) {
    $("notice").textContent = text || "";
    $("notice").hidden = !text;
  }

  // --- state ---------------------------------------------------------------------------------
  const state = {
    walkId: null,
    walk: null,
    prefs: { voice: true, tones: true, warning: true },
    skewMs: 0, // server clock minus this page's clock
    skewRoundTrip: Infinity, // the round trip the skew was estimated from
    events: [], // the cues on the active-time axis, in ms
    firedUpToMs: null, // active ms up to which cues have been played (null: not yet synced)
    timer: null,
    heartbeat: null,
    sync: null,
    endPoll: null,
    holdingChat: null,
    busy: false,
  };

  // --- the server ----------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, body) {
      super(`HTTP ${status}`);
      this.status = status;
      this.body = body;
    }
  }

  async function api(method, path, body, extra) {
    const options = {
      method,
      headers: { Authorization: `tma ${initData}` },
      cache: "no-store",
      ...(extra || {}),
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const sent = Date.now();
    const response = await fetch(new URL(path, document.baseURI), options);
    const received = Date.now();
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = null;
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return { data, sent, received };
  }

  function explain(error) {
    if (error instanceof ApiError) {
      if (error.status === 401) {
        return "I couldn't check it's you. Close this screen and open it again from the chat.";
      }
      if (error.status === 403) return "That walk isn't yours, so I can't show it.";
      if (error.status === 404) return "I can't find that walk. Send /walk in the chat.";
      return "Something went wrong on my side. Your chat cues carry on.";
    }
    return "I can't reach walkbot just now. Your chat cues carry on.";
  }

  // --- the walk's timeline -------------------------------------------------------------------
  const parseTime = (iso) => (iso ? Date.parse(iso) : null);
  const serverNow = () => Date.now() + state.skewMs;

  // The skew from the middle of a request: the server read its clock somewhere in between, so
  // the estimate is off by at most half the round trip. A reply that changes the timeline
  // (Start, Pause, Resume...) sets it; later replies that change nothing refine it only when
  // their round trip was quicker (a Start reply waits for the chat's message to go out; a
  // plain read, sent at once after it, does not).
  function observe(walk, sent, received, force) {
    const roundTrip = received - sent;
    if (!force && roundTrip >= state.skewRoundTrip) return false;
    state.skewRoundTrip = roundTrip;
    state.skewMs = parseTime(walk.server_now) - (sent + received) / 2;
    return true;
  }

  function adopt(walk, sent, received) {
    observe(walk, sent, received, true);
    state.walk = walk;
    state.walkId = walk.id;
    state.events = buildEvents(walk);
  }

  function sameTimeline(a, b) {
    return (
      a && b && a.id === b.id && a.status === b.status && a.started_at === b.started_at &&
      a.ends_at === b.ends_at && a.paused_since === b.paused_since &&
      a.paused_s === b.paused_s && a.rating_step === b.rating_step
    );
  }

  // Active milliseconds walked at server instant `at`. While active, `ends_at` pins the
  // timeline exactly: elapsed = total - (ends_at - at). While paused: the pause's start.
  function activeMs(walk, at) {
    const totalMs = walk.total_s * 1000;
    if (walk.status === "ready" || !walk.started_at) return 0;
    if (walk.status === "ended") return totalMs;
    let elapsed;
    if (walk.status === "active" && walk.ends_at) {
      elapsed = totalMs - (parseTime(walk.ends_at) - at);
    } else {
      const until = walk.paused_since ? parseTime(walk.paused_since) : at;
      elapsed = until - parseTime(walk.started_at) - walk.paused_s * 1000;
    }
    return Math.min(Math.max(elapsed, 0), totalMs);
  }

  function phaseAt(walk, ms) {
    const phases = walk.phases;
    for (let i = phases.length - 1; i >= 0; i -= 1) {
      if (phases[i].start_s * 1000 <= ms) return i;
    }
    return 0;
  }

  function direction(kind) {
    return kind === "backward" ? "backward" : "forward";
  }

  function spokenDuration(seconds) {
    if (seconds < 120) return `${seconds} seconds`;
    const minutes = Math.floor(seconds / 60);
    const rest = seconds % 60;
    const head = `${minutes} minutes`;
    return rest ? `${head} ${rest} seconds` : head;
  }

  function shortDuration(seconds) {
    const minutes = Math.floor(seconds / 60);
    const rest = seconds % 60;
    if (!minutes) return `${rest} s`;
    return rest ? `${minutes} min ${rest} s` : `${minutes} min`;
  }

  // The phase whose start is closest to half the walk, if close enough (as the chat's note).
  function halfwayPhase(walk) {
    const half = walk.total_s / 2;
    let best = null;
    walk.phases.forEach((phase, i) => {
      if (!phase.start_s) return;
      const distance = Math.abs(phase.start_s - half);
      if (best === null || distance < best.distance) best = { distance, i };
    });
    return best && best.distance <= walk.total_s * HALFWAY_TOLERANCE ? best.i : null;
  }

  // What is said when a phase begins: consistent with walkbot/domain/walk_copy.py.
  function phaseWords(walk, i, halfway) {
    const phase = walk.phases[i];
    const duration = spokenDuration(phase.duration_s);
    let words;
    if (phase.kind === "warmup") words = `Warm-up: walk forward at an easy pace for ${duration}.`;
    else if (phase.kind === "cooldown") words = `Cool-down: easy forward walking for ${duration}.`;
    else if (i === 0) words = `Let's go: walk ${phase.kind} for ${duration}.`;
    else words = `Turn around: walk ${phase.kind} for ${duration}.`;
    if (i === halfway) words += " Halfway there.";
    if (phase.kind === "backward" && phase.round === walk.rounds && walk.rounds > 1) {
      words += " Last round!";
    }
    return words;
  }

  function finishWords(walk) {
    const backward = walk.phases
      .filter((p) => p.kind === "backward")
      .reduce((sum, p) => sum + p.duration_s, 0);
    return `Well done! That's your walk complete: ${spokenDuration(backward)} backward. ` +
      "Take it easy now.";
  }

  // Every cue of the walk on the active-time axis (ms): phase starts, the 10-second warning
  // before a change of direction, 3-2-1 before every phase ends, and the finish.
  function buildEvents(walk) {
    const events = [];
    const halfway = halfwayPhase(walk);
    walk.phases.forEach((phase, i) => {
      const start = phase.start_s * 1000;
      const end = start + phase.duration_s * 1000;
      events.push({ at: start, kind: "switch", phase: i, words: phaseWords(walk, i, halfway) });
      const next = walk.phases[i + 1];
      if (next && phase.duration_s >= WARNING_MIN_PHASE_S &&
          direction(next.kind) !== direction(phase.kind)) {
        events.push({ at: end - WARNING_S * 1000, kind: "warning", phase: i });
      }
      for (const left of [3, 2, 1]) {
        if (phase.duration_s > left) events.push({ at: end - left * 1000, kind: "count", phase: i });
      }
    });
    events.push({ at: walk.total_s * 1000, kind: "finish", phase: walk.phases.length - 1,
      words: finishWords(walk) });
    events.sort((a, b) => a.at - b.at);
    return events;
  }

  // --- sound and speech ----------------------------------------------------------------------
  let audio = null;

  function audioContext() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return null;
    if (!audio) {
      try {
        audio = new Context();
      } catch (_) {
        audio = null;
      }
    }
    return audio;
  }

  // Browsers start sound only after a tap: call this from every tap. iOS also lets a page
  // speak later only if it spoke during a tap, so the first tap says nothing, silently.
  let speechPrimed = false;
  function unlockSound() {
    const context = audioContext();
    if (context && context.state === "suspended" && context.resume) {
      context.resume().catch(() => {});
    }
    if (!speechPrimed && "speechSynthesis" in window) {
      speechPrimed = true;
      try {
        const silent = new SpeechSynthesisUtterance("");
        silent.volume = 0;
        window.speechSynthesis.speak(silent);
      } catch (_) {
        /* no speech here */
      }
    }
    updateSoundButton();
  }

  function updateSoundButton() {
    const context = audio;
    const live = state.walk && state.walk.status === "active";
    const suspended = !context || context.state === "suspended";
    $("sound-on").hidden = !(live && state.prefs.tones && suspended);
  }

  function tone(kind) {
    if (!state.prefs.tones) return;
    const context = audioContext();
    if (!context) return;
    const now = context.currentTime;
    for (const [frequency, offset, length] of TONES[kind]) {
      const oscillator = context.createOscillator();
      const gain = context.createGain();
      oscillator.type = "sine";
      oscillator.frequency.value = frequency;
      const at = now + offset;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.6, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + length);
      oscillator.connect(gain);
      gain.connect(context.destination);
      oscillator.start(at);
      oscillator.stop(at + length + 0.02);
    }
  }

  let voice = null;
  function pickVoice() {
    if (!("speechSynthesis" in window) || voice) return;
    const voices = window.speechSynthesis.getVoices() || [];
    voice = voices.find((v) => v.lang === "en-GB") ||
      voices.find((v) => (v.lang || "").startsWith("en")) || null;
  }

  // Where speech is missing (Telegram's Android web view), tones, haptics and the text carry it.
  function say(words) {
    if (!state.prefs.voice || !("speechSynthesis" in window)) return;
    try {
      pickVoice();
      const utterance = new SpeechSynthesisUtterance(words);
      utterance.lang = "en-GB";
      if (voice) utterance.voice = voice;
      window.speechSynthesis.cancel(); // never queue behind a stale cue
      window.speechSynthesis.speak(utterance);
    } catch (_) {
      /* no speech here */
    }
  }

  function play(event) {
    if (event.kind === "switch") {
      tone("switch");
      haptic("warning");
      say(event.words);
    } else if (event.kind === "finish") {
      tone("finish");
      haptic("success");
      say(event.words);
    } else if (event.kind === "warning") {
      if (state.prefs.warning) tone("warning");
    } else if (event.kind === "count") {
      tone("count");
    }
  }

  // --- the clock loop ------------------------------------------------------------------------
  function schedule(delayMs) {
    clearTimeout(state.timer);
    state.timer = setTimeout(tick, Math.max(0, Math.ceil(delayMs)));
  }

  function tick() {
    const walk = state.walk;
    if (!walk || walk.status !== "active") return;
    const now = serverNow();
    const elapsed = activeMs(walk, now);
    if (state.firedUpToMs === null) state.firedUpToMs = elapsed; // synced mid-walk: no replay
    const due = state.events.filter((e) => e.at > state.firedUpToMs && e.at <= elapsed);
    if (elapsed > state.firedUpToMs) state.firedUpToMs = elapsed;
    // Only the latest switch (or the finish) is worth saying; earlier ones have passed.
    const lastSwitch = due.filter((e) => e.kind === "switch" || e.kind === "finish").pop();
    for (const event of due) {
      const late = elapsed - event.at;
      if (event.kind === "switch" || event.kind === "finish") {
        if (event === lastSwitch && late <= SWITCH_LATE_MS) play(event);
      } else if (late <= TICK_LATE_MS && !(lastSwitch && lastSwitch.at > event.at)) {
        play(event);
      }
    }
    render();
    if (elapsed >= walk.total_s * 1000) {
      finishedLocally();
      return;
    }
    // Wake at the next cue or the next whole second shown, whichever is first.
    const next = state.events.find((e) => e.at > elapsed);
    const toSecond = 1000 - (elapsed % 1000) || 1000;
    const toCue = next ? next.at - elapsed : Infinity;
    schedule(Math.min(toSecond, toCue));
  }

  function finishedLocally() {
    stopHeartbeat();
    clearInterval(state.endPoll);
    // The server ends the walk at the same instant; read it until it has.
    state.endPoll = setInterval(() => refresh().catch(() => {}), END_POLL_MS);
  }

  // --- rendering -----------------------------------------------------------------------------
  function render() {
    const walk = state.walk;
    if (!walk) return;
    updateSoundButton();
    if (walk.status === "ready") {
      $("plan-line").textContent = planLine(walk);
      $("safety-card").textContent = walk.safety_card || "";
      show("ready");
      return;
    }
    if (walk.status === "ended") {
      renderRating(walk);
      show("rating");
      return;
    }
    const elapsed = activeMs(walk, serverNow());
    const i = phaseAt(walk, elapsed);
    const phase = walk.phases[i];
    const phaseEnd = (phase.start_s + phase.duration_s) * 1000;
    const left = Math.max(0, Math.ceil((phaseEnd - elapsed) / 1000));
    const paused = walk.status === "paused";
    const panel = $("phase-panel");
    panel.classList.toggle("backward", phase.kind === "backward" && !paused);
    panel.classList.toggle("paused", paused);
    $("phase-word").textContent = phaseWord(phase.kind);
    $("seconds-left").textContent = String(left);
    $("round-line").textContent = roundLine(walk, phase);
    $("paused-line").hidden = !paused;
    const next = walk.phases[i + 1];
    $("next-line").textContent = nextLine(next);
    $("pause").hidden = paused;
    $("resume").hidden = !paused;
    $("chat-line").textContent = state.holdingChat
      ? "Chat cues are resting while this screen is open."
      : "";
    show("live");
  }

  // Warm-up and cool-down are forward walking: FORWARD in big, the label small (the contract).
  function phaseWord(kind) {
    return kind === "backward" ? "BACKWARD" : "FORWARD";
  }

  function roundLine(walk, phase) {
    if (phase.kind === "warmup") return "Warm-up";
    if (phase.kind === "cooldown") return "Cool-down · all rounds done";
    return `Round ${phase.round} of ${walk.rounds}`;
  }

  function nextLine(next) {
    if (!next) return "Next: the finish";
    const duration = shortDuration(next.duration_s);
    if (next.kind === "cooldown") return `Next: cool-down, easy forward for ${duration}`;
    return `Next: ${next.kind} for ${duration}`;
  }

  function planLine(walk) {
    if (walk.plan_text) return walk.plan_text;
    const backward = walk.phases.find((p) => p.kind === "backward");
    const forward = walk.phases.find((p) => p.kind === "forward");
    if (!backward || !forward) return "";
    return `${walk.rounds} × ${shortDuration(backward.duration_s)} backward / ` +
      `${shortDuration(forward.duration_s)} forward`;
  }

  function renderRating(walk) {
    // The kind words of a stop already hold the summary: then it is not said twice.
    const said = $("end-message").hidden ? "" : $("end-message").textContent;
    const summary = walk.summary && !said.includes(walk.summary) ? walk.summary : "";
    $("summary").textContent = summary;
    $("summary").hidden = !summary;
    const step = walk.rating_step;
    $("rate-effort").hidden = step !== "effort";
    $("rate-pain").hidden = step !== "pain";
    $("rate-note").hidden = step !== "note";
    $("rated").hidden = step !== null && step !== undefined;
  }

  function buildGrids() {
    EFFORT_LABELS.forEach((label, value) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button";
      button.textContent = `${value} ${label}`;
      button.addEventListener("click", () => rate({ step: "effort", value }));
      $("effort-grid").appendChild(button);
    });
    for (let value = 0; value <= 10; value += 1) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button";
      button.textContent = String(value);
      button.setAttribute("aria-label", `knee pain ${value}`);
      button.addEventListener("click", () => rate({ step: "pain", value }));
      $("pain-grid").appendChild(button);
    }
  }

  function showMessage(id, text) {
    $(id).textContent = text || "";
    $(id).hidden = !text;
  }

  // --- talking to the server -----------------------------------------------------------------
  function walkPath() {
    return state.walkId === null ? "api/walk" : `api/walk/${state.walkId}`;
  }

  // Read the walk; a reply that changes nothing keeps the timeline (and skew) as it was.
  async function refresh() {
    const { data, sent, received } = await api("GET", walkPath());
    if (data.prefs) setPrefs(data.prefs);
    if (!data.walk) {
      state.walk = null;
      stopLoops();
      $("message-text").textContent =
        "No walk on right now. Send /walk in the chat when you're ready.";
      show("message-screen");
      return;
    }
    if (sameTimeline(state.walk, data.walk)) {
      if (observe(data.walk, sent, received) && data.walk.status === "active") tick();
      return;
    }
    enter(data.walk, sent, received);
  }

  // A new view of the walk, from any reply.
  function enter(walk, sent, received) {
    const before = state.walk;
    adopt(walk, sent, received);
    if (walk.status === "active" && !(before && before.status === "active")) {
      // Resumed or started: cues from now on (a start plays its first cue at 0).
      state.firedUpToMs = before && before.status === "ready" ? -1 : null;
    }
    if (walk.status !== "active") {
      clearTimeout(state.timer);
      stopHeartbeat();
    }
    if (walk.status === "ended") {
      clearInterval(state.endPoll);
      clearInterval(state.sync);
      releaseWakeLock();
    }
    if (walk.status === "active") {
      clearInterval(state.endPoll);
      startHeartbeat();
      keepAwake();
      tick();
    }
    render();
  }

  async function control(action) {
    if (state.busy || state.walkId === null) return;
    state.busy = true;
    unlockSound();
    try {
      const { data, sent, received } = await api("POST", `api/walk/${state.walkId}/control`, {
        action,
      });
      showMessage(data.walk.status === "ended" ? "end-message" : "walk-message", data.message);
      enter(data.walk, sent, received);
      notice("");
      // The reply waited for the chat's follow-up; a plain read times the clocks better.
      if (data.walk.status === "active") refresh().catch(() => {});
    } catch (error) {
      if (error instanceof ApiError && error.status === 409 && error.body && error.body.walk) {
        enter(error.body.walk, Date.now(), Date.now());
        notice("That has already happened in the chat.");
      } else {
        notice(explain(error));
      }
    } finally {
      state.busy = false;
    }
  }

  async function rate(answer) {
    if (state.busy) return;
    state.busy = true;
    try {
      const { data, sent, received } = await api(
        "POST", `api/walk/${state.walkId}/rating`, answer,
      );
      if (data.message) showMessage("end-message", data.message); // e.g. the pain rule
      enter(data.walk, sent, received);
      notice("");
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) {
        notice("That was already answered in the chat.");
        refresh().catch(() => {});
      } else {
        notice(explain(error));
      }
    } finally {
      state.busy = false;
    }
  }

  function setPrefs(prefs) {
    state.prefs = { voice: !!prefs.voice, tones: !!prefs.tones, warning: !!prefs.warning };
    $("pref-voice").checked = state.prefs.voice;
    $("pref-tones").checked = state.prefs.tones;
    $("pref-warning").checked = state.prefs.warning;
  }

  async function savePrefs() {
    const wanted = {
      voice: $("pref-voice").checked,
      tones: $("pref-tones").checked,
      warning: $("pref-warning").checked,
    };
    state.prefs = wanted;
    unlockSound();
    try {
      const { data } = await api("PUT", "api/prefs", wanted);
      setPrefs(data.prefs || data);
    } catch (error) {
      notice(explain(error));
    }
  }

  // --- heartbeats and visibility -------------------------------------------------------------
  function beat(visible) {
    if (state.walkId === null) return;
    api("POST", `api/walk/${state.walkId}/heartbeat`, { visible }, { keepalive: !visible })
      .then(({ data }) => {
        if (visible && data) {
          state.holdingChat = !!data.hold_chat_cues;
          render();
        }
      })
      .catch(() => {});
  }

  function startHeartbeat() {
    if (state.heartbeat !== null || document.visibilityState !== "visible") return;
    beat(true);
    state.heartbeat = setInterval(() => beat(true), HEARTBEAT_MS);
  }

  function stopHeartbeat() {
    clearInterval(state.heartbeat);
    state.heartbeat = null;
    state.holdingChat = null;
  }

  function stopLoops() {
    clearTimeout(state.timer);
    clearInterval(state.endPoll);
    stopHeartbeat();
  }

  function hidden() {
    // Hand over to the chat at once: timers are throttled from now on.
    const wasBeating = state.heartbeat !== null;
    stopHeartbeat();
    clearTimeout(state.timer);
    state.firedUpToMs = null; // back on screen: no replay of what was missed
    if (wasBeating || (state.walk && state.walk.status === "active")) beat(false);
  }

  function visible() {
    keepAwake();
    state.skewRoundTrip = Infinity; // the phone may have slept and set its clock meanwhile
    refresh()
      .then(() => {
        if (state.walk && state.walk.status === "active") {
          startHeartbeat();
          tick();
        }
      })
      .catch((error) => notice(explain(error)));
  }

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") hidden();
    else visible();
  });
  window.addEventListener("pagehide", hidden);

  // --- keeping the screen on -----------------------------------------------------------------
  let wakeLock = null;
  async function keepAwake() {
    const live = state.walk && (state.walk.status === "active" || state.walk.status === "paused");
    if (!live || !("wakeLock" in navigator) || document.visibilityState !== "visible") return;
    if (wakeLock && !wakeLock.released) return;
    try {
      wakeLock = await navigator.wakeLock.request("screen");
    } catch (_) {
      wakeLock = null; // refused (battery saver) or not allowed here
    }
  }

  function releaseWakeLock() {
    if (wakeLock && !wakeLock.released) wakeLock.release().catch(() => {});
    wakeLock = null;
  }

  // --- start ---------------------------------------------------------------------------------
  function wire() {
    $("start").addEventListener("click", () => control("start"));
    $("pause").addEventListener("click", () => control("pause"));
    $("resume").addEventListener("click", () => control("resume"));
    $("stop").addEventListener("click", () => control("stop"));
    $("need-to-stop").addEventListener("click", () => control("need_to_stop"));
    $("sound-on").addEventListener("click", unlockSound);
    $("note-save").addEventListener("click", () => {
      const text = $("note-text").value.trim();
      rate({ step: "note", text: text || null });
    });
    $("note-skip").addEventListener("click", () => rate({ step: "note", text: null }));
    $("pain-skip").addEventListener("click", () => rate({ step: "pain", value: null }));
    for (const id of ["pref-voice", "pref-tones", "pref-warning"]) {
      $(id).addEventListener("change", savePrefs);
    }
    document.addEventListener("click", unlockSound, { capture: true });
    if ("speechSynthesis" in window && window.speechSynthesis.addEventListener) {
      window.speechSynthesis.addEventListener("voiceschanged", () => { voice = null; });
    }
  }

  function main() {
    applyTheme();
    if (tg) {
      try {
        tg.ready();
        tg.expand();
        if (tg.onEvent) tg.onEvent("themeChanged", applyTheme);
      } catch (_) {
        /* keep going */
      }
    }
    buildGrids();
    wire();
    setPrefs(state.prefs);
    if (!initData) {
      $("message-text").textContent =
        "Please open this screen from walkbot in Telegram: tap Live screen on your walk.";
      show("message-screen");
      return;
    }
    const wanted = new URLSearchParams(location.search).get("walk");
    if (wanted && /^[0-9]{1,18}$/.test(wanted)) state.walkId = Number(wanted);
    refresh()
      .then(() => {
        state.sync = setInterval(() => {
          if (document.visibilityState === "visible") refresh().catch(() => {});
        }, SYNC_MS);
      })
      .catch((error) => {
        $("message-text").textContent = explain(error);
        show("message-screen");
      });
  }

  main();
})();
