export { Module, Parameter, StateStore } from './module.js';
export { Linear, Conv2d, MaxPool2d, AvgPool2d, Flatten, ReLU, type InitOptions } from './layers.js';
export { Sequential, resetState } from './sequential.js';
export { pytorchDefaultInit, uniformParameter, type UniformSource } from './init.js';
