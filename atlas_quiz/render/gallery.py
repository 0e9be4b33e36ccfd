"""A fixed gallery of formulas from the Deep Learning Mathematics Atlas (seed 000), as printed there.

The renderer's tests and its benchmark use them as a standing workload beside
the decks' own formulas (which grow as cards are written). They are copied
verbatim, slips included (``\\ A\\ _2`` for ``\\|A\\|_2``), because real
sources have slips and rendering must survive them.
"""

from __future__ import annotations

__all__ = ["GALLERY"]

# (where in the atlas, LaTeX source)
GALLERY: tuple[tuple[str, str], ...] = (
    ('000 (1.1)', r'''C = A \odot B \quad \text{其中 } C_{i,j} = A_{i,j} \times B_{i,j} \quad (1.1)'''),
    ('000 (1.3)', r'''C = AB \implies C_{i,j} = \sum_{k=1}^n A_{i,k} B_{k,j} \quad (1.3)'''),
    ('000 (1.4)', r'''A_{i,j}^T = A_{j,i} \quad (1.4)'''),
    ('000 (1.5)', r'''\|\mathbf{x}\|_2 = \sqrt{\sum_{i=1}^n |x_i|^2} \quad (1.5)'''),
    ('000 (2.1)', r'''A = U\Sigma V^T \quad (2.1)'''),
    ('000 (2.2)', r'''A = QR \tag{2.2}'''),
    ('000 (2.3)', r'''\det(A) \cdot A^{-1} = \text{adj}(A) \tag{2.3}'''),
    ('000 (2.5)', r'''C_{ij} = \sum_k A_{ik} B_{kj} \implies ik,kj \rightarrow ij \tag{2.5}'''),
    ('000 (3.1)', r'''\mathcal{N}(\mathbf{x}|\boldsymbol{\mu}, \boldsymbol{\Sigma}) = \frac{1}{(2\pi)^{D/2}|\boldsymbol{\Sigma}|^{1/2}} \exp\left(-\frac{1}{2}(\mathbf{x} - \boldsymbol{\mu})^\top \boldsymbol{\Sigma}^{-1}(\mathbf{x} - \boldsymbol{\mu})\right) \quad (3.1)'''),
    ('000 (3.2)', r'''P(X = k) = p_k, \quad \sum_{k=1}^K p_k = 1 \quad (3.2)'''),
    ('000 (3.3)', r'''P(Z|X) = \frac{P(X|Z)P(Z)}{P(X)} \quad (3.3)'''),
    ('000 (3.4)', r'''P(X_{n+1} = x | X_n = x_n, X_{n-1} = x_{n-1}, \dots, X_0 = x_0) = P(X_{n+1} = x | X_n = x_n) \quad (3.4)'''),
    ('000 (4.1)', r'''\text{ReLU}(x) = \max(0, x) \quad (4.1)'''),
    ('000 (4.2)', r'''\sigma(x) = \frac{1}{1 + e^{-x}} \quad (4.2)'''),
    ('000 (4.3)', r'''\tanh(x) = \frac{e^x - e^{-x}}{e^x + e^{-x}} \quad (4.3)'''),
    ('000 (4.4)', r'''\text{Softmax}(x_i) = \frac{e^{x_i}}{\sum_{j=1}^C e^{x_j}} \quad (4.4)'''),
    ('000 inline #26', r'''\mathbf{W} \in \mathbb{R}^{out \times in}'''),
    ('000 (5.2)', r'''H_{out} = \left\lfloor \frac{H_{in} + 2 \times \text{padding}[0] - \text{dilation}[0] \times (\text{kernel_size}[0] - 1) - 1}{\text{stride}[0]} + 1 \right\rfloor \quad (5.2)'''),
    ('000 (5.3)', r'''\text{out}(N_i, C_{out_j}) = \text{bias}(C_{out_j}) + \sum_{k=0}^{C_{in}-1} \text{weight}(C_{out_j}, k) \star \text{input}(N_i, k) \quad (5.3)'''),
    ('000 (5.4)', r'''\text{out}(C, h, w) = \max_{m,n} \text{input}(C, h \times S + m, w \times S + n) \quad (5.4)'''),
    ('000 inline #37', r'''c_t = f_t \odot c_{t-1} + i_t \odot g_t \quad (\text{细胞状态更新})'''),
    ('000 (6.11)', r'''h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1} \quad (6.11)'''),
    ('000 (7.1)', r'''\hat{x} = \frac{x - E[x]}{\sqrt{\text{Var}[x] + \epsilon}} \cdot \gamma + \beta \quad (7.1)'''),
    ('000 (8.1)', r'''\text{MSE}(\mathbf{y}, \hat{\mathbf{y}}) = \frac{1}{N} \sum_{i=1}^N (y_i - \hat{y}_i)^2 = \frac{1}{N} \|\mathbf{y} - \hat{\mathbf{y}}\|_2^2 \quad (8.1)'''),
    ('000 (8.3)', r'''\text{CosSim}(\mathbf{u}, \mathbf{v}) = \frac{\mathbf{u} \cdot \mathbf{v}}{\|\mathbf{u}\|_2 \|\mathbf{v}\|_2} = \frac{\sum u_i v_i}{\sqrt{\sum u_i^2} \sqrt{\sum v_i^2}} \quad (8.3)'''),
    ('000 (9.1)', r'''H(P, Q) = - \sum_x P(x) \log Q(x) \quad (9.1)'''),
    ('000 (9.2)', r'''= H(P) + D_{KL}(P \| Q) \quad (9.2)'''),
    ('000 (9.4)', r'''D_{KL}(P\|Q) = \sum_x P(x) \log \left(\frac{P(x)}{Q(x)} \right) \quad (9.4)'''),
    ('000 (9.5)', r'''\mathcal{L}_{BCE} = -\frac{1}{N} \sum_{i=1}^N [y_i \log(\hat{y}_i) + (1 - y_i) \log(1 - \hat{y}_i)] \quad (9.5)'''),
    ('000 (10.1)', r'''\mathbf{v}^T J = \left[\frac{\partial L}{\partial y_1}, \dots, \frac{\partial L}{\partial y_m} \right] \begin{bmatrix} \frac{\partial y_1}{\partial x_1} & \cdots & \frac{\partial y_1}{\partial x_n} \\ \vdots & \ddots & \vdots \\ \frac{\partial y_m}{\partial x_1} & \cdots & \frac{\partial y_m}{\partial x_n} \end{bmatrix} \quad (10.1)'''),
    ('000 (11.3)', r'''\theta_t = \theta_{t-1} - \eta \left(\frac{\hat{m}_t}{\sqrt{\hat{v}_t} + \epsilon} + \lambda \theta_{t-1} \right) \quad (11.3)'''),
    ('000 (12.1)', r'''dW_t \sim \mathcal{N}(0, dt) \quad (12.1)'''),
    ('000 (12.3)', r'''x_{t+\Delta t} = x_t + f(x_t, t)\Delta t + g(t)\sqrt{\Delta t}\epsilon, \quad \epsilon \sim \mathcal{N}(0, 1) \quad (12.3)'''),
    ('000 (13.1)', r'''\text{Attention}(Q, K, V) = \text{softmax}\left(\frac{QK^T}{\sqrt{d_k}}\right)V \quad (13.1)'''),
    ('000 (13.2)', r'''\text{MultiHead}(Q, K, V) = \text{Concat}(\text{head}_1, \dots, \text{head}_h)W^O \quad (13.2)'''),
    ('000 inline #83', r'''\text{head}_i = \text{Attention}(QW_i^Q, KW_i^K, VW_i^V)'''),
    ('000 (14.2)', r'''\mathcal{L}_{VAE} = \mathbb{E}_{q(z|x)} [\log p(x|z)] - D_{KL}(q(z|x) \| p(z)) \quad (14.2)'''),
    ('000 (14.3)', r'''q(x_t|x_{t-1}) = \mathcal{N}(x_t; \sqrt{1 - \beta_t}x_{t-1}, \beta_t I) \quad (14.3)'''),
    ('000 (15.1)', r'''\text{RMSNorm}(x) = \frac{x}{\text{RMS}(x)} \odot \gamma \quad \text{其中} \text{RMS}(x) = \sqrt{\frac{1}{d} \sum_{i=1}^d x_i^2 + \epsilon} \quad (15.1)'''),
    ('000 (15.3)', r'''\text{Swish}_\beta(z) = z \cdot \sigma(\beta z) = \frac{z}{1 + e^{-\beta z}} \quad (15.3)'''),
    ('000 (15.5)', r'''\begin{bmatrix} \cos m\theta_1 & -\sin m\theta_1 & 0 & 0 & \dots \\ \sin m\theta_1 & \cos m\theta_1 & 0 & 0 & \dots \\ 0 & 0 & \cos m\theta_2 & -\sin m\theta_2 & \dots \\ 0 & 0 & \sin m\theta_2 & \cos m\theta_2 & \dots \\ \vdots & \vdots & \vdots & \vdots & \ddots \end{bmatrix} \quad (15.5)'''),
    ('000 inline #97', r'''\theta_i = 10000^{-2(i-1)/d}'''),
    ('000 (15.6)', r'''G(x)_i = \begin{cases} \frac{e^{x \cdot W_{r,i}}}{\sum_{j \in T} e^{x \cdot W_{r,j}}}, & \text{if } i \in T \\ 0, & \text{otherwise} \end{cases} \quad (15.6)'''),
    ('000 (16.4)', r'''\bar{\mathbf{B}} = (\Delta \mathbf{A})^{-1} (\exp(\Delta \mathbf{A}) - \mathbf{I}) \cdot \Delta \mathbf{B} \quad (16.4)'''),
    ('000 (17.2)', r'''h = W_0 \mathbf{x} + \frac{\alpha}{r} B A \mathbf{x} \quad (17.2)'''),
    ('000 (18.1)', r'''\min_G \max_D V(D, G) = \mathbb{E}_{x \sim p_{data}} [\log D(x)] + \mathbb{E}_{z \sim p_z} [\log(1 - D(G(z)))] \quad (18.1)'''),
    ('000 (18.2)', r'''\mathcal{L}_q = -\log \frac{\exp(\mathbf{q} \cdot \mathbf{k}^+ / \tau)}{\sum_{i=0}^K \exp(\mathbf{q} \cdot \mathbf{k}_i / \tau)} \quad (18.2)'''),
    ('000 (19.1)', r'''H^{(l+1)} = \sigma \left(\tilde{D}^{-\frac{1}{2}} \tilde{A} \tilde{D}^{-\frac{1}{2}} H^{(l)} W^{(l)} \right) \quad (19.1)'''),
    ('000 (19.3)', r'''\mathbf{z}_0 = [x_{\text{class}}; \mathbf{x}_p^1 \mathbf{E}; \dots; \mathbf{x}_p^N \mathbf{E}] + \mathbf{E}_{pos} \quad (19.3)'''),
    ('000 (20.1)', r'''\mathcal{L}_{DPO} = -\mathbb{E}_{(x, y_w, y_l)} \left[\log \sigma \left(\beta \log \frac{\pi_\theta(y_w|x)}{\pi_{ref}(y_w|x)} - \beta \log \frac{\pi_\theta(y_l|x)}{\pi_{ref}(y_l|x)} \right) \right] \quad (20.1)'''),
    ('000 (20.2)', r'''q_i = \frac{1}{2} \left(\mathcal{Q} \left(\frac{i}{16} \right) + \mathcal{Q} \left(\frac{i+1}{16} \right) \right) \quad (20.2)'''),
    ('000 (21.1)', r'''\hat{\epsilon}_{\theta}(x_t, c) = \epsilon_{\theta}(x_t, \emptyset) + w \cdot (\epsilon_{\theta}(x_t, c) - \epsilon_{\theta}(x_t, \emptyset)) \quad (21.1)'''),
    ('000 (21.2)', r'''X_t = tX_1 + (1-t)X_0, \quad t \in [0, 1] \quad (21.2)'''),
    ('000 (21.3)', r'''\mathcal{L} = \mathbb{E}_{t, X_0, X_1} [\|v_\theta(X_t, t) - (X_1 - X_0)\|_2^2] \quad (21.3)'''),
)
