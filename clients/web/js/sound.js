// An optional sound when a vote or poll opens or the floor is given to this person: two short sine tones made
// with WebAudio (no audio file). Off by default — a hall of 50 tablets chiming at once is noise — and the choice
// is kept on this device (localStorage "kyhop.sound").
//
// Browsers let a page start audio only after a tap on it: the toggle itself is such a tap, and with the sound on
// from an earlier visit the first tap anywhere on the page wakes the audio up.

import { h } from "./ui.js";

const KEY = "kyhop.sound";
let ctx = null;
let played = 0;

export const soundOn = () => localStorage.getItem(KEY) === "1";

function audio() {
  if (!ctx) {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return null;
    ctx = new Ctx();
  }
  if (ctx.state === "suspended") {
    ctx
      .resume()
      .then(() => (document.documentElement.dataset.audio = ctx.state))
      .catch(() => {});
  }
  document.documentElement.dataset.audio = ctx.state; // "running" once a tap has let the page play sound
  return ctx;
}

/** 880 Hz then 660 Hz, 150 ms each, with a 10 ms fade in and out (no click), at a fifth of full volume. */
export function chime() {
  if (!soundOn()) return false;
  const a = audio();
  if (!a) return false;
  const t0 = a.currentTime + 0.02;
  [880, 660].forEach((freq, i) => {
    const osc = a.createOscillator();
    const gain = a.createGain();
    const start = t0 + i * 0.18;
    osc.type = "sine";
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0, start);
    gain.gain.linearRampToValueAtTime(0.2, start + 0.01);
    gain.gain.setValueAtTime(0.2, start + 0.14);
    gain.gain.linearRampToValueAtTime(0, start + 0.15);
    osc.connect(gain).connect(a.destination);
    osc.start(start);
    osc.stop(start + 0.16);
  });
  played += 1;
  document.documentElement.dataset.chimes = String(played); // what the browser test reads
  return true;
}

/** The header's toggle: "Âm báo: tắt" / "Âm báo: bật". */
export function soundToggle() {
  const button = h("button", { class: "sound-toggle", id: "sound-toggle", type: "button" });
  const show = () => {
    button.setAttribute("aria-pressed", String(soundOn()));
    button.textContent = soundOn() ? "Âm báo: bật" : "Âm báo: tắt";
    button.title = "Phát tiếng chuông ngắn khi mở biểu quyết hoặc khi bạn được mời phát biểu";
  };
  button.addEventListener("click", () => {
    localStorage.setItem(KEY, soundOn() ? "0" : "1");
    show();
    if (soundOn()) {
      audio(); // created inside the tap, so the browser lets it play later
      chime(); // and a sample of what it sounds like
    }
  });
  document.addEventListener("pointerdown", () => soundOn() && audio(), { once: true });
  show();
  return button;
}
