import { describe, expect, it } from 'vitest';
import { baseText, bytesOfText, familiesFit, kindText, settingsText, sizeText } from './wording';

describe('model wording', () => {
	it('sizes in decimal units, as downloads are sized', () => {
		expect(sizeText(5_200_000_000)).toBe('5.2 GB');
		expect(sizeText(640_000_000)).toBe('640 MB');
		expect(sizeText(282_357)).toBe('282 KB');
		expect(sizeText(12)).toBe('12 B');
		expect(bytesOfText(1_200_000_000, 5_200_000_000)).toBe('1.2 GB of 5.2 GB');
	});

	it('says the settings that suit a model', () => {
		expect(settingsText({ width: 512, height: 512, steps: 1, steps_min: 1, steps_max: 4, guidance: 0 })).toBe(
			'512×512 · 1–4 steps · guidance 0'
		);
		expect(settingsText({ width: 1024, height: 1024, steps: 30, steps_min: 30, steps_max: 30, guidance: 6.5 })).toBe(
			'1024×1024 · 30 steps · guidance 6.5'
		);
	});

	it('names kinds for people', () => {
		expect(kindText('image-to-video')).toBe('Video from a picture');
		expect(kindText('something-new')).toBe('something-new');
	});

	it('says a base family, and which go together', () => {
		expect(baseText('Stable Diffusion XL')).toBe('Stable Diffusion XL');
		expect(baseText(null)).toBe('Unknown base');
		expect(familiesFit('sd_v1', 'sd_v')).toBe(true);
		expect(familiesFit('sdxl', null)).toBe(true);
		expect(familiesFit('sdxl', 'sd_v1')).toBe(false);
		expect(familiesFit('sd_v1', 'sd_v2')).toBe(false);
	});
});
