import { describe, expect, it } from 'vitest';
import type { GraphEdge, GraphNode } from '$lib/api/scenes';
import { defaultModel, modelOf } from './modelOf';

const node = (type: string, params: Record<string, unknown> = {}) =>
	({ type, title: type, position: { x: 0, y: 0 }, params, bypass: false }) as unknown as GraphNode;
const edge = (source: string, target: string) =>
	({ source, source_handle: 'model', target, target_handle: 'model' }) as GraphEdge;

describe('the model a node works with', () => {
	it('is found up the chain of LoRA and IP-Adapter nodes', () => {
		const nodes = { m: node('model_loader', { model: 'xl' }), ip: node('ip_adapter'), l: node('lora'), t: node('text_to_image') };
		const edges = { a: edge('m', 'ip'), b: edge('ip', 'l'), c: edge('l', 't') };
		expect(modelOf(nodes, edges, 't')).toBe('xl');
		expect(modelOf(nodes, edges, 'l')).toBe('xl');
		expect(modelOf(nodes, {}, 't')).toBe('');
		expect(modelOf({ a: node('lora'), b: node('lora') }, { x: edge('a', 'b'), y: edge('b', 'a') }, 'a')).toBeNull();
	});

	it('is the first picture model when none is picked', () => {
		const models = [{ name: 'clip', kind: 'text-to-video' }, { name: 'pic', kind: 'text-to-image' }];
		expect(defaultModel(models)?.name).toBe('pic');
		expect(defaultModel(models.slice(0, 1))?.name).toBe('clip');
	});
});
