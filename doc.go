// Package coco lets a Go service answer with a small language model (SLM) when it
// can and pay a large language model (LLM) only when it must, and then only for as
// few tokens as possible.
//
// A [Coco], built by [New] from two [Model]s, runs one task at a time through
// the pipeline, safely from many goroutines at once:
//
//  1. the SLM answers with several samples, and an [Estimator] scores the
//     confidence of its majority answer (self-consistency, and token logprobs
//     where the provider returns them);
//  2. a [Router] keeps the SLM's answer or sends the task on; thresholds are
//     calibrated from traces with [CalibrateForLoss] or [CalibrateForShare];
//  3. for the LLM, a [Compressor] shortens the task's context at a rate the
//     SLM's confidence sets, a [SketchPrompter] asks for a short reasoning
//     sketch and the answer, and an [Aligner] fuses both models' reasoning
//     into one rationale;
//  4. a [Meter] records every call per stage and model in exact [Money],
//     enforces a hard budget, and prices what sending the task straight to
//     the LLM would have cost.
//
// Every strategy is a small interface with a default that is usable on its
// own; options ([WithRouter], [WithCompressor], ...) swap them, and package
// cocotest has scripted models for tests. [FromLangchain] adapts any
// langchaingo model, package openaicompat talks to OpenAI-compatible
// endpoints with logprobs, and *Coco is itself a langchaingo llms.Model.
//
// What fails and what Run does then is documented on [Coco.Run]. Nothing in
// the package reads environment variables, logs, or reaches the network on
// its own: the only network traffic is the model calls a caller makes. Token
// counting ([CountTokens], [TokenCounter]) works offline.
package coco
