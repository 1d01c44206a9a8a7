/**
 * @modnas/core: the operator interfaces (Ω ω η δ) and the contexts components get, the DI tokens of
 * an experiment's container, component, plugin and engine definitions, the registry, errors,
 * params and ArchSpace, Module/Slot, rng, and the names of the kernels engines add.
 */
import 'reflect-metadata';

export { readVariables, tf } from './tf.js';
export type { Tensor, Variable } from './tf.js';
export { z } from 'zod';
export type { ModnasErrorOptions } from './errors.js';
export { ModnasError, closeMatches, isModnasError } from './errors.js';
export type { AlphaProbs, EventMap, EventName, Handler } from './events.js';
export { EventBus } from './events.js';
export type { Token, Batch, BatchOptions, DataSplit, Dataset, ImagePreprocess, StepResult, LossTerm, StateOptimizer, TrialResult, GradientAccess, SearchFeedback, SearchOptimizer, EstimResult, EstimContext, StateEstimator, StateTransformer, SlotSpec, Exporter, MetricsFn, Callback, Loss, LossHost, LossSession, ResultStore, EstimCheckpoints, TrialSpec, TrialSummary, TrialRunner, ComponentSpec, BuildContext, KindOutput, SpaceDef, KindInput, ComponentKind } from './interfaces.js';
export { Tokens, token, resolveToken, COMPONENT_KINDS } from './interfaces.js';
export type { LogLevel, Logger, LogSink, ProgressTask, ProgressReporter } from './log.js';
export { silentLogger, silentProgress } from './log.js';
export type { SlotOptions } from './module.js';
export { Module, Sequential, Slot } from './module.js';
export type { ParamValue, Assignment, ParamListener, CategoricalOptions, NumericOptions, TensorParamOptions, GraphEdge, SpaceGraph, GraphDeclaration, ParamDescription, SpaceDescription } from './params.js';
export { ArchParam, DiscreteParam, CategoricalParam, NumericParam, TensorParam, ArchSpace } from './params.js';
export type { ComponentDef, ComponentRef, AnyComponentDef, PluginMeta, ModnasPlugin, EngineDef, EngineInit, TensorEngine } from './plugin.js';
export { defineComponent, definePlugin, defineEngine, isEngineDef } from './plugin.js';
export * as kernelNames from './kernel-names.js';
export type { PackageRecord, RegistryRow } from './registry.js';
export { Registry, getRegistry, looseName, manifestAliases, manifestDescriptions, manifestKinds } from './registry.js';
export { Rng, setTensorSeed, nextTensorSeed, getTensorSeedState, setTensorSeedState } from './rng.js';
export { CORE_VERSION } from './version.js';
