"""The guided live retest: test -> correction -> retest, with live figures.

:mod:`nkt_motion.retest.processor` turns streamed samples into live envelopes,
per-trial ratios, onset order and IMU angles with the streaming DSP forms;
:mod:`nkt_motion.retest.detector` finds trials in the envelopes. The guided
session that walks a protocol's steps builds on both.
"""
