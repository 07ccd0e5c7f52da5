import{_ as m}from"../chunks/COTxIzSX.js";export{m as component};
